"""Paper trading: a `Venue` that fills orders in-process against the live public book."""
