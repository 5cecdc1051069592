-- What delivery needs of a message (its facts, see fmn_msg_summary),
-- derived once at intake, so that formatting a notification does not
-- parse the envelope and derive the facts a second time. NULL for
-- messages stored before: delivery then falls back to the envelope.
ALTER TABLE messages ADD COLUMN summary TEXT;
