"""Thin HTTP layer: parse, call one service method, serialize."""
