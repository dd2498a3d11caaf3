"""The organisation's settings a person changes (name, default signatories, words style, receipt paper and copies),
stored in the database with the environment as their default."""
