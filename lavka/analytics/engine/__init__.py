"""The analytics engine: pure computation over NumPy arrays.

- `summary`: per-client purchase summary (x, t_x, T, spend) from transaction columns.
- `bgnbd`: the BG/NBD purchase model (P(alive), expected purchases).
- `gamma_gamma`: the Gamma-Gamma spend model and customer lifetime value.
- `rfm`: RFM scores and named segments.
- `abcxyz`: ABC by value, XYZ by monthly variation, the ABC-XYZ matrix.
- `sufficiency`: the "not enough data" rule and its markers.

Nothing here touches the database or imports another Lavka app; the only Django import
is `gettext_lazy` for names shown to users.
"""
