"""The `bench` subcommands, one module each, every module exposing ``add_parser(subparsers)``."""
from __future__ import annotations

import argparse


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows each option's default and keeps descriptions' line breaks.

    Options whose default is None, False or an empty list say in their own help what
    happens when they are not given, so no "(default: None)" is appended to them.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.default == []:
            return action.help
        return super()._get_help_string(action)
