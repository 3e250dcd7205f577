"""Adapters: the only code that talks to AWS. ClientError codes become domain errors here."""
