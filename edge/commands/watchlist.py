"""`edge watchlist ...`: the crossing's cache (status, sync, import, lookup) and the authority's tools
(keygen, publish); `edge bench sync` measures apply and lookup speed."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from edge.commands.config import load_for_command
from edge.config import DEFAULT_CONFIG, EdgeConfig
from edge.watchlist import runtime, utc
from edge.watchlist.apply import apply_bundle
from edge.watchlist.authority_input import read_rows
from edge.watchlist.keys import InvalidKey, generate_private_key, load_private_key, private_key_pem, public_key_text
from edge.watchlist.lookup import Lookup, WatchlistHit
from edge.watchlist.publish import Publisher, PublishError
from edge.watchlist.records import record_to_json
from edge.watchlist.result import SyncResult
from edge.watchlist.sync import Syncer

EXIT_REFUSED = 1
EXIT_USAGE = 2


def register(sub: argparse._SubParsersAction) -> None:
    wl = sub.add_parser("watchlist", help="watchlist cache: status, sync, import, lookup; authority: keygen, publish")
    actions = wl.add_subparsers(dest="watchlist_command", required=True, metavar="ACTION")

    def with_config(name: str, help_text: str) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, help=help_text)
        parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="crossing config (default: the demo)")
        return parser

    status = with_config("status", "lists, versions, age and staleness of the cache")
    status.add_argument("--verify", action="store_true", help="also re-hash every record and check the database")
    status.set_defaults(func=_status)

    sync = with_config("sync", "pull bundles from the configured sources (or --source) once")
    sync.add_argument("--source", action="append", help="an http(s) URL or folder instead of the configured ones")
    sync.set_defaults(func=_sync)

    imp = with_config("import", "verify and apply one bundle file")
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=_import)

    lookup = actions.add_parser("lookup", help="look up a plate, a document or a person (JSON lines out)")
    kinds = lookup.add_subparsers(dest="lookup_kind", required=True, metavar="KIND")
    plate = kinds.add_parser("plate", help="a plate, fuzzy unless --exact")
    plate.add_argument("plate")
    plate.add_argument("--exact", action="store_true")
    doc = kinds.add_parser("doc", help="a document number, with its issuing state if known")
    doc.add_argument("number")
    doc.add_argument("--issuer")
    person = kinds.add_parser("person", help="a person by name, with date of birth and nationality if known")
    person.add_argument("surname")
    person.add_argument("given_names", nargs="?", default="")
    person.add_argument("--dob", help="YYYY-MM-DD")
    person.add_argument("--nationality")
    for parser in (plate, doc, person):
        parser.add_argument("--config", default=str(DEFAULT_CONFIG), help="crossing config (default: the demo)")
        parser.set_defaults(func=_lookup)

    keygen = actions.add_parser("keygen", help="authority: make an Ed25519 signing key and print its public half")
    keygen.add_argument("--out", type=Path, required=True, help="where to write the private key (PEM, mode 0600)")
    keygen.add_argument("--key-id", required=True)
    keygen.set_defaults(func=_keygen)

    publish = actions.add_parser("publish", help="authority: CSV/JSON in, a signed bundle out")
    publish.add_argument("--list", required=True, dest="list_id", help="list id, e.g. vehicles")
    which = publish.add_mutually_exclusive_group(required=True)
    which.add_argument("--full", type=Path, help="every record of the list (.csv, .jsonl or .json)")
    which.add_argument("--delta", type=Path, help="changes since the last version (op column: upsert|delete)")
    publish.add_argument("--kind", choices=("plate", "document", "person"), help="kind of rows without a kind")
    publish.add_argument("--key", type=Path, required=True, help="the private key (PEM)")
    publish.add_argument("--key-id", required=True)
    publish.add_argument("--out", type=Path, required=True, help="the publication folder (serve it or copy it)")
    publish.add_argument("--state", type=Path, help="the publisher's own copy (default: OUT/.authority)")
    publish.add_argument("--valid-days", type=float, default=7.0, help="days until the bundle expires")
    publish.add_argument("--keep-deltas", type=int, default=100)
    publish.set_defaults(func=_publish)


def register_bench(bench_sub: argparse._SubParsersAction) -> None:
    bench = bench_sub.add_parser("sync", help="publish, apply and look up a synthetic watchlist of N records")
    bench.add_argument("--records", type=int, default=100_000)
    bench.add_argument("--delta-records", type=int, default=10_000)
    bench.add_argument("--lookups", type=int, default=2_000, help="listed plates looked up (and as many unlisted)")
    bench.add_argument("--dir", type=Path, help="work folder (default: the system's temp folder)")
    bench.set_defaults(func=_bench)


def _config(args: argparse.Namespace) -> EdgeConfig:
    return load_for_command(args.config)


def _print_result(result: SyncResult) -> None:
    verdict = "applied" if result.applied else f"REFUSED ({result.reason.value if result.reason else '?'})"
    print(f"{result.bundle}: {verdict}: {result.detail}")


def _status(args: argparse.Namespace) -> int:
    config = _config(args)
    now = time.time()
    with runtime.open_store(config.watchlist, config.state_dir) as store:
        lists = store.lists()
        print(f"cache: {store.path}")
        for s in lists.values():
            print(
                f"  {s.list_id}: version {s.version}, {s.record_count} records, created {utc.render(s.created)} "
                f"({(now - s.created) / 3600:.1f} h ago), expires {utc.render(s.expires)}, key {s.key_id}"
            )
        if not lists:
            print("  (no lists)")
        stale = runtime.staleness(config.watchlist, store, now)
        print(f"stale: {'YES' if stale.stale else 'no'} (policy {stale.policy.value})")
        for reason in stale.reasons:
            print(f"  {reason}")
        print(f"face generation: {store.face_generation()}")
        if not args.verify:
            return 0
        check = store.check_content()
        problems = [*check.problems, *store.integrity_errors()]
        print(f"content hash: {check.content_hash}")
        print("verify: " + ("ok" if not problems else "FAILED"))
        for problem in problems:
            print(f"  {problem}")
        return 0 if not problems else EXIT_REFUSED


def _sync(args: argparse.Namespace) -> int:
    config = _config(args)
    wl = config.watchlist
    if args.source:
        wl = wl.model_copy(update={"sources": args.source})
    if not wl.sources:
        print("no watchlist sources configured (watchlist.sources) and none given with --source", file=sys.stderr)
        return EXIT_USAGE
    failed = False
    with runtime.open_store(wl, config.state_dir) as store:
        for report in Syncer(store, runtime.sources(wl, config.state_dir), runtime.keyring(wl)).sync_once():
            print(f"source {report.source}: " + (report.error or f"{len(report.results)} bundle(s) tried"))
            for result in report.results:
                _print_result(result)
            failed = failed or report.error is not None or any(not r.applied for r in report.results)
        stale = runtime.staleness(wl, store, time.time())
        if stale.stale:
            print(f"stale (policy {stale.policy.value}): " + "; ".join(stale.reasons))
    return EXIT_REFUSED if failed else 0


def _import(args: argparse.Namespace) -> int:
    config = _config(args)
    with runtime.open_store(config.watchlist, config.state_dir) as store:
        result = apply_bundle(store, args.file, runtime.keyring(config.watchlist), source=str(args.file))
    _print_result(result)
    return 0 if result.applied else EXIT_REFUSED


def _hit_json(hit: WatchlistHit) -> str:
    record = record_to_json(hit.record)
    record.pop("faces", None)  # vectors are no use on a terminal
    return json.dumps({"list": hit.list_id, "version": hit.list_version, "match": hit.match.value,
                       "advisory": hit.advisory, "record": record}, ensure_ascii=False)


def _lookup(args: argparse.Namespace) -> int:
    config = _config(args)
    now = time.time()
    with runtime.open_store(config.watchlist, config.state_dir) as store:
        lookup = Lookup(store)
        if args.lookup_kind == "plate":
            hits = lookup.plate(args.plate, now=now, fuzzy=not args.exact)
        elif args.lookup_kind == "doc":
            hits = lookup.document(args.number, args.issuer, now=now)
        else:
            hits = lookup.person(args.surname, args.given_names, dob=args.dob, nationality=args.nationality, now=now)
    for hit in hits:
        print(_hit_json(hit))
    print(f"{len(hits)} hit(s)", file=sys.stderr)
    return 0


def _keygen(args: argparse.Namespace) -> int:
    if args.out.exists():
        print(f"{args.out} exists: not overwriting a key", file=sys.stderr)
        return EXIT_USAGE
    key = generate_private_key()
    args.out.touch(mode=0o600)
    args.out.write_bytes(private_key_pem(key))
    print("# add to the crossing config:")
    print("[[watchlist.trusted_keys]]")
    print(f'id = "{args.key_id}"')
    print(f'public_key = "{public_key_text(key)}"')
    return 0


def _publish(args: argparse.Namespace) -> int:
    try:
        key = load_private_key(args.key)
    except InvalidKey as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    source = args.full or args.delta
    publisher = Publisher(args.out, args.state or args.out / ".authority", key, args.key_id,
                          valid_for_s=args.valid_days * 86400, keep_deltas=args.keep_deltas)
    try:
        publish = publisher.publish_full if args.full else publisher.publish_delta
        published = publish(args.list_id, source, read_rows(source), kind=args.kind)
    except PublishError as exc:
        print(f"not published: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        publisher.close()
    print(json.dumps({"bundle": str(published.path), **asdict(published.manifest)}))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from edge.bench.watchlist import run

    print(json.dumps(run(args.records, args.delta_records, args.lookups, args.dir)))
    return 0
