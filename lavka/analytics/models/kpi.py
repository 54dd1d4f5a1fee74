"""(models of this concern; see the package docstring)"""

__all__: list[str] = []
