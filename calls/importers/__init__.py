"""Importers: one module per source format. Each turns a file into validated rows or row errors;
``calls.services`` applies them to the database in one transaction."""
