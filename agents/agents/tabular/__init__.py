"""Tabular methods: exact planners, learners, discretisation of continuous observations."""
