"""The demo company behind `lavka demo`: see README.md."""
