"""The attack campaign behind `edge bench attacks`: every attack the kiosk, the sync, the files and
the audit log have faced, replayed against the real service and the real CLI.

Adding an attack: write a function in the module of what it attacks (`kiosk`, `crossings`,
`mirror`, `files`, `audit_log`), taking the campaign's `Target` and raising `Breach` with what
happened when the defence did not hold, and decorate it with `@attack("name", "what it tries")`.
Give it `finding=N` when it replays a numbered finding of an attack report. The campaign runs
the attacks in the order their modules are listed in `campaign.ATTACK_MODULES`, then in the order
they are written; attacks that restart the service come last.
"""
