"""Importers that turn what a city office already has (CSV spreadsheets) into record drafts."""
