"""Search across the client base: the database indexes (PostgreSQL pg_trgm and
full text, SQLite FTS5 trigram) and `search_everything`, the one-box search."""
