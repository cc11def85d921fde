"""``flask plugins new``: write a ready outside-plugin distribution.

The files come from ``core/scaffold_templates`` (``string.Template`` texts,
so Jinja's ``{{ }}`` in a panel template passes through untouched). What is
written is what an outside author would write: a package that imports only
``core.toolkit``, found through its ``ecrire.plugins`` entry point.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template

import click
from flask import current_app
from flask.cli import with_appcontext

#: A plugin name is an entry-point name, a package suffix and (for a section)
#: a section code, which the database stores in 32 characters.
NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")

TEST_IMPORTS = {
    "action": "import re\nfrom pathlib import Path\n\nimport pytest\nfrom babel.messages.pofile import read_po\n"
    "from flask import Flask\n\nimport $package\nfrom core.app import create_app\n",
    "channel": "import json\nimport re\n\nimport pytest\nfrom flask import Flask\n\nfrom core.app import create_app\n"
    "from core.toolkit import Delivered, DeliveryItem, Recipient, RetryLater\nfrom $package import ENV_VAR, ${cls}Channel\n",
    "source": "import pytest\nfrom flask import Flask\n\nfrom core.app import create_app\n",
    "section": "import pytest\nfrom flask import Flask\n\nfrom core.app import create_app\n",
}


@dataclass(frozen=True)
class Kind:
    """What one kind of plugin is and which extra files it ships."""

    description: str
    checks: str
    change: str
    #: Output path (a template itself) -> template file name.
    extra: dict[str, str] = field(default_factory=dict)


ENABLE = """Switch it on for a section, for example the French one (it takes effect
within seconds, without a restart):

```sh
flask plugins enable fr $name
```"""

KINDS = {
    "action": Kind(
        description="$title: an action type where the supporter ticks one box to say they did it.",
        checks="that its panel is on the French portal's case page and that a confirmation is taken",
        change="Edit the form and `record` in `$package/__init__.py` and the panel in\n"
        "`$package/templates/$name/panel.html` (keep `form.csrf_token` in it). Its strings\n"
        "have their own catalog; after changing them:\n\n"
        "```sh\ncd $folder\npybabel extract -F babel.cfg -o $package/translations/messages.pot .\n"
        "pybabel update -i $package/translations/messages.pot -d $package/translations\n"
        "pybabel compile -d $package/translations\n```\n\n"
        "The compiled `.mo` files are build products: until you compile, pages show the English texts.",
        extra={
            "$package/templates/$name/panel.html": "action_panel.html.txt",
            "$package/translations/fr/LC_MESSAGES/messages.po": "action_messages.po.txt",
            "babel.cfg": "babel.cfg.txt",
        },
    ),
    "channel": Kind(
        description="$title: a delivery channel that appends each item as a JSON line to a file.",
        checks="that it can be switched on and that `deliver` writes each item once",
        change="Set `$env_var` to the file to write. Replace the body of `deliver` in\n"
        "`$package/__init__.py` with a call to your service: return `Delivered` when it\n"
        "accepted the item, `RetryLater` for a temporary failure and `Undeliverable` for a\n"
        "permanent one. A section's letter routing sends items here by naming the channel\n"
        '`"$name"` in its `Route`.',
    ),
    "source": Kind(
        description="$title: a case source with one example case.",
        checks="that its case has a page on the French portal once the source is on",
        change="Yield your cases from `ecrire_cases` in `$package/__init__.py` and your past\n"
        "outcomes from `ecrire_success_stories`. The portal reads them with\n"
        "`flask cases sync`, not on each page. A source that cannot reach its data must\n"
        "raise: an empty answer withdraws all its cases.",
    ),
    "section": Kind(
        description="$title: a national section's portal.",
        checks="that its host serves its portal",
        change="Edit the `SectionDefinition` in `$package/__init__.py`: names, hosts, languages,\n"
        "country, campaign dates, legal rules and the plugins switched on at creation.\n"
        "Never change `code` once the section has actions.",
    ),
}

SECTION_ENABLE = """A section plugin is always on for its own section. Create the section
(its `default_plugins` are switched on) and switch on more plugins for it:

```sh
flask sections sync
flask plugins enable $name solidarity_message
```

Its portal answers on `http://$host:5000/` with `flask run`."""


def values(name: str) -> dict[str, str]:
    dashed = name.replace("_", "-")
    words = name.replace("_", " ").strip()
    return {
        "name": name,
        "dist": f"ecrire-{dashed}",
        "folder": f"ecrire-{dashed}",
        "package": f"ecrire_{name}",
        "title": words[:1].upper() + words[1:],
        "cls": "".join(part.capitalize() for part in name.split("_")),
        "host": f"{dashed}.localhost",
        "env_var": f"ECRIRE_{name.upper()}_FILE",
        "case_id": f"{dashed}-example",
    }


def _template(file: str) -> str:
    return resources.files("core.scaffold_templates").joinpath(file).read_text(encoding="utf-8")


def render(name: str, kind: str) -> dict[str, str]:
    """Every file of the distribution: path relative to its folder -> text."""
    spec = KINDS[kind]
    subst = values(name)

    def fill(text: str) -> str:
        return Template(text).substitute(subst)

    subst["description"] = fill(spec.description)
    subst["checks"] = spec.checks
    subst["change"] = fill(spec.change)
    subst["enable"] = fill(SECTION_ENABLE if kind == "section" else ENABLE)
    package = subst["package"]
    files = {
        "pyproject.toml": fill(_template("pyproject.toml.txt")),
        "README.md": fill(_template("README.md.txt")),
        ".gitignore": _template("gitignore.txt"),
        f"{package}/__init__.py": fill(_template(f"{kind}.py.txt")),
        f"tests/test_{name}.py": fill(
            _template("test_header.py.txt").replace("$imports", TEST_IMPORTS[kind]) + "\n\n" + _template(f"test_{kind}.py.txt")
        ),
    }
    for target, source in spec.extra.items():
        files[fill(target)] = fill(_template(source))
    return files


def _refuse_clash(name: str, kind: str) -> None:
    """A name an installed plugin or section already uses would stop start-up."""
    registry = current_app.extensions["ecrire"].registry
    if name in registry.plugins:
        raise click.ClickException(f"a plugin named {name!r} is already installed: choose another name")
    if kind == "section" and name in registry.sections:
        raise click.ClickException(f"a section with code {name!r} already exists: choose another name")


@click.command("new")
@click.argument("name")
@click.option("--kind", type=click.Choice(["action", "channel", "source", "section"]), required=True)
@click.option("--directory", type=click.Path(file_okay=False), default=".", show_default=True)
@with_appcontext
def new_command(name: str, kind: str, directory: str) -> None:
    """Write a new plugin distribution NAME of the given kind."""
    if not NAME.fullmatch(name):
        raise click.BadParameter(
            "use lowercase letters, digits and underscores, starting with a letter, at most 32 characters "
            "(for example call_embassy)",
            param_hint="NAME",
        )
    _refuse_clash(name, kind)
    folder = Path(directory) / values(name)["folder"]
    if folder.exists():
        raise click.ClickException(f"{folder} already exists: remove it or choose another name or --directory")
    for relative, text in render(name, kind).items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {folder} ({kind} plugin {name!r})")
    click.echo("next:")
    click.echo(f"  pip install -e {folder}")
    if kind == "section":
        click.echo("  flask sections sync")
    else:
        click.echo(f"  flask plugins enable fr {name}")
    click.echo(f"  python -m pytest {folder / 'tests'}")
