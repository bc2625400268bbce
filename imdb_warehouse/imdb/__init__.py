"""Pure code about IMDb: URLs, page parsing, and an offline replay of the site. No Dagster here."""
