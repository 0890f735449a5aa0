"""Names of the op types the engine core and tensorframes treat specially.

Placeholders are fed, variables hold session state and are initialized by
an Assign; code that walks a graph compares `op.type` with these names
instead of repeating the strings.
"""
PLACEHOLDER = "Placeholder"
VARIABLE = "VariableV2"
ASSIGN = "Assign"
