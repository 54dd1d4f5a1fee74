"""Analytical CRM: RFM and ABC/XYZ segments, the BG/NBD and Gamma-Gamma models of
purchases and spend (probability of leaving, expected purchases, lifetime value).

`engine/` is the numerical core: pure functions over NumPy arrays, no models and no
database. See README.md."""
