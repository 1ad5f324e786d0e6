"""Helpers shared by every algorithm: files, schedules, envs, evaluation, logging, plots."""
