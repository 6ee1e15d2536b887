"""The menu tree editor: versions, the node editor, the YAML view, diffs, the phone simulator and
the audit trail, for the coordinator and the org admins the coordinator allows."""
