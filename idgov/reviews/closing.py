"""Closing a campaign: closing to closed once remediation is verified, then the evidence pack."""

from __future__ import annotations
