"""The `bench` subcommands, one module each, every module exposing ``add_parser(subparsers)``."""
