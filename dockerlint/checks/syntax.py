"""Codes for problems the parsers find; the engine reports them for every file read."""

from dockerlint.checks import problem_codes

problem_codes("SYN001", "SYN002", "REQ004", "REQ005")
