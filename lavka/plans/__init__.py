"""Sales plans per user, team, product category and period, generated from past periods and
compared with the actuals and the weighted pipeline."""
