"""What the tests share: processes, databases, the object store, identities, sample files."""
