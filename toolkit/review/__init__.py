"""Human review of an aligned result: the session, its journal, and the full-screen (textual) interface."""
