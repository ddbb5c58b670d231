"""`edge users ...`: kiosk accounts (add, list, passwd, set, badge, disable, enable, demo).

Accounts live in the crossing's state dir (state_dir/kiosk/users.sqlite); the running service sees
every change at once, and a new password, badge or a disable ends the account's open sessions.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Callable

from edge.commands.config import load_for_command
from edge.config import DEFAULT_CONFIG, EdgeConfig
from edge.kiosk.auth.accounts import Accounts, open_accounts
from edge.kiosk.auth.model import InvalidAccount, Role, parse_lanes

EXIT_REFUSED = 1
EXIT_USAGE = 2


def register(sub: argparse._SubParsersAction) -> None:
    users = sub.add_parser("users", help="kiosk accounts: add, list, passwd, set, badge, disable, enable, demo")
    actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    def action(name: str, help_text: str, func, with_name: bool = True) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, help=help_text)
        if with_name:
            parser.add_argument("name", help="user name")
        parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="crossing config (default: the demo)")
        parser.set_defaults(func=func)
        return parser

    roles = [role.value for role in Role]
    add = action("add", "create an account (the password is asked for, or read with --password-stdin)", _add)
    add.add_argument("--role", required=True, choices=roles)
    add.add_argument("--lanes", help="lane ids separated by commas, or 'all' (a supervisor has every lane)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")

    action("list", "every account with its role, lanes, badge and state", _list, with_name=False)

    passwd = action("passwd", "set a new password; ends the account's sessions", _passwd)
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")

    change = action("set", "change an account's role and/or lanes", _set)
    change.add_argument("--role", choices=roles)
    change.add_argument("--lanes", help="lane ids separated by commas, or 'all'")

    badge = action("badge", "give an account a badge id and PIN (the PIN is asked for, or --pin-stdin)", _badge)
    which = badge.add_mutually_exclusive_group(required=True)
    which.add_argument("--badge", dest="badge_id", help="the badge's id as its reader types it")
    which.add_argument("--clear", action="store_true", help="remove the badge and PIN")
    badge.add_argument("--pin-stdin", action="store_true", help="read the PIN from the first line of stdin")

    action("disable", "stop an account from logging in; ends its sessions", _disable)
    action("enable", "let a disabled account log in again", _enable)
    action("demo", "create the demo accounts (only where the config sets kiosk.auth.demo_accounts)", _demo,
           with_name=False)


def _lanes(config: EdgeConfig, text: str | None, role: Role) -> tuple[tuple[str, ...], bool]:
    if role is Role.SUPERVISOR and text is None:
        return (), True
    if text is None:
        raise InvalidAccount(f"the role {role.value} needs --lanes (lane ids separated by commas, or 'all')")
    lanes, every = parse_lanes(text)
    known = [lane.id for lane in config.lanes]
    unknown = [lane for lane in lanes if lane not in known]
    if unknown:
        raise InvalidAccount(f"no lane {', '.join(unknown)} in this crossing; its lanes are {', '.join(known)}")
    return lanes, every


def _secret(what: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"{what}: ")
    if getpass.getpass(f"{what} again: ") != first:
        raise InvalidAccount(f"the two {what}s differ")
    return first


def _with_accounts(func: Callable[[argparse.Namespace, EdgeConfig, Accounts], int]) -> Callable[..., int]:
    """Run a command on the config's accounts, closed afterwards; a refused change prints why and
    exits 1 instead of a traceback."""

    def run(args: argparse.Namespace) -> int:
        config = load_for_command(args.config)
        accounts = open_accounts(config.state_dir, config.kiosk.auth)
        try:
            return func(args, config, accounts)
        except InvalidAccount as exc:
            print(f"refused: {exc}", file=sys.stderr)
            return EXIT_REFUSED
        finally:
            accounts.close()

    return run


@_with_accounts
def _add(args: argparse.Namespace, config: EdgeConfig, accounts: Accounts) -> int:
    role = Role(args.role)
    lanes, every = _lanes(config, args.lanes, role)
    user = accounts.admin.add(args.name, role, lanes, every, _secret("password", args.password_stdin))
    print(f"added {user.username} ({role.value}, {_lanes_words(user.all_lanes, user.lanes)})")
    return 0


@_with_accounts
def _passwd(args: argparse.Namespace, _: EdgeConfig, accounts: Accounts) -> int:
    accounts.admin.set_password(args.name, _secret("password", args.password_stdin))
    print(f"new password for {args.name}; its sessions are ended")
    return 0


@_with_accounts
def _set(args: argparse.Namespace, config: EdgeConfig, accounts: Accounts) -> int:
    account = accounts.users.get(args.name)
    if account is None:
        raise InvalidAccount(f"no user {args.name!r}")
    if args.role is None and args.lanes is None:
        print("give --role and/or --lanes", file=sys.stderr)
        return EXIT_USAGE
    role = Role(args.role) if args.role else account.user.role
    if args.lanes is None and Role.SUPERVISOR not in (role, account.user.role):
        lanes, every = account.user.lanes, account.user.all_lanes
    else:
        lanes, every = _lanes(config, args.lanes, role)
    user = accounts.admin.set_access(args.name, role, lanes, every)
    print(f"{user.username} is now {role.value}, {_lanes_words(user.all_lanes, user.lanes)}")
    return 0


@_with_accounts
def _badge(args: argparse.Namespace, _: EdgeConfig, accounts: Accounts) -> int:
    if args.clear:
        accounts.admin.clear_badge(args.name)
        print(f"{args.name} has no badge now")
        return 0
    accounts.admin.set_badge(args.name, args.badge_id, _secret("PIN", args.pin_stdin))
    print(f"{args.name} logs in with badge {args.badge_id.strip()} and PIN")
    return 0


@_with_accounts
def _disable(args: argparse.Namespace, _: EdgeConfig, accounts: Accounts) -> int:
    accounts.users.set_disabled(args.name, True)
    print(f"{args.name} is disabled; its sessions are ended")
    return 0


@_with_accounts
def _enable(args: argparse.Namespace, _: EdgeConfig, accounts: Accounts) -> int:
    accounts.users.set_disabled(args.name, False)
    print(f"{args.name} may log in again")
    return 0


@_with_accounts
def _list(args: argparse.Namespace, _: EdgeConfig, accounts: Accounts) -> int:
    now = time.time()
    rows = [("USER", "ROLE", "LANES", "BADGE", "STATE", "SESSIONS")]
    for account in accounts.users.all():
        user = account.user
        state = "disabled" if account.disabled else "active"
        if account.demo:
            state += " (demo)"
        rows.append((user.username, user.role.value, _lanes_words(user.all_lanes, user.lanes),
                     account.badge_id or "-", state, str(accounts.sessions.live_count(user.username, now))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


@_with_accounts
def _demo(args: argparse.Namespace, config: EdgeConfig, accounts: Accounts) -> int:
    if not config.kiosk.auth.demo_accounts:
        print(f"{args.config} is not a demo checkpoint: set kiosk.auth.demo_accounts = true there "
              "(for a demo only; the kiosk must stay on loopback)", file=sys.stderr)
        return EXIT_USAGE
    print("demo accounts (user / password):")
    for demo in accounts.demo_accounts:
        print(f"  {demo.describe()}")
    return 0


def _lanes_words(all_lanes: bool, lanes: tuple[str, ...]) -> str:
    return "every lane" if all_lanes else ",".join(lanes)
