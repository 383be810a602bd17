"""The shapes lptui prints: JSON records (`jsonify`) and the task table's columns (`task_columns`),
shared by the CLI and the console so both say the same. May import the foundation, `livepatch`,
`oncall` and `lifecycle`; never `actions`.
"""
