-- Filters fmnd stopped evaluating because their regexes kept going over
-- the matching budget (docs/filters.md, "The regex budget"): why, in
-- words for the user, and since when. NULL: not broken. The engine
-- skips a broken filter as it skips an inactive one; `fmnctl filter
-- enable` clears the mark. filter_upd (001) fires on any column of
-- filters, so setting or clearing the mark recompiles the user.
ALTER TABLE filters ADD COLUMN broken TEXT;
ALTER TABLE filters ADD COLUMN broken_since REAL;
