"""The only rooms code that talks to AWS."""
