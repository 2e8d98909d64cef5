"""A framework is data: label (sub-category) names, their categories, descriptions and examples.

The default is the NHS England patient experience framework v7; a trust can supply its own as YAML,
JSON or CSV, with other names and any number of labels, and train and classify with no code change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from carelens.errors import ConfigError

LABELLING_NOT_POSSIBLE = "Labelling not possible"
DEFAULT_FRAMEWORK = "v7"


@dataclass(frozen=True)
class Label:
    name: str
    category: str
    description: str = ""
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Framework:
    """An ordered list of labels (sub-categories), each in one category."""

    name: str
    version: str
    labels: tuple[Label, ...]
    labelling_not_possible: str = LABELLING_NOT_POSSIBLE
    # the label for praise "with no more specific topic" (v7: "Positive experience & gratitude"), if
    # the framework has one: a model takes it from the whole comment only, never from one clause
    # ("there was nothing I could eat" reads like the FFT answer "nothing" = nothing to improve)
    general_praise: str | None = None
    v6_mapping: dict[str, list[str]] = field(default_factory=dict, compare=False, hash=False)

    @property
    def label_names(self) -> list[str]:
        return [label.name for label in self.labels]

    @property
    def categories(self) -> list[str]:
        seen: dict[str, None] = {}
        for label in self.labels:
            seen.setdefault(label.category, None)
        return list(seen)

    def category_of(self, label: str) -> str:
        for item in self.labels:
            if item.name == label:
                return item.category
        if label == self.labelling_not_possible:
            return "General"
        raise KeyError(label)

    @property
    def learnable_labels(self) -> list[str]:
        """Labels a model learns from text; 'Labelling not possible' is set by rule instead."""
        return [name for name in self.label_names if name != self.labelling_not_possible]

    def to_dict(self) -> dict[str, Any]:
        categories: dict[str, list[dict[str, Any]]] = {}
        for label in self.labels:
            item = {"name": label.name, "description": label.description, "examples": list(label.examples)}
            categories.setdefault(label.category, []).append(item)
        return {
            "name": self.name,
            "version": self.version,
            "special": {"labelling_not_possible": self.labelling_not_possible,
                        **({"general_praise": self.general_praise} if self.general_praise else {})},
            "categories": [{"name": c, "labels": ls} for c, ls in categories.items()],
            "v6_mapping": self.v6_mapping,
        }

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "framework") -> Framework:
        if not isinstance(data, dict) or "categories" not in data:
            raise ConfigError("a framework needs a 'categories' list", file=source, field="categories")
        labels: list[Label] = []
        seen: set[str] = set()
        for ci, category in enumerate(data["categories"] or []):
            if not isinstance(category, dict) or not str(category.get("name", "")).strip():
                raise ConfigError(f"category {ci + 1} has no name", file=source, field="categories")
            cname = str(category["name"]).strip()
            for item in category.get("labels") or []:
                if isinstance(item, str):
                    item = {"name": item}
                name = str(item.get("name", "")).strip()
                if not name:
                    raise ConfigError(f"a label in category '{cname}' has no name", file=source, field="name")
                if name in seen:
                    raise ConfigError(f"label '{name}' appears twice", file=source, field="name")
                seen.add(name)
                examples = item.get("examples") or []
                labels.append(Label(name, cname, str(item.get("description", "") or ""), tuple(map(str, examples))))
        if not labels:
            raise ConfigError("the framework has no labels", file=source, field="labels")
        special = data.get("special") or {}
        general_praise = str(special["general_praise"]).strip() if special.get("general_praise") else None
        if general_praise is not None and general_praise not in seen:
            raise ConfigError(f"special 'general_praise' names '{general_praise}', which is not a label of the framework",
                              file=source, field="general_praise")
        return cls(
            name=str(data.get("name", Path(source).stem)),
            version=str(data.get("version", "custom")),
            labels=tuple(labels),
            labelling_not_possible=str(special.get("labelling_not_possible", LABELLING_NOT_POSSIBLE)),
            general_praise=general_praise,
            v6_mapping={str(k): list(v) for k, v in (data.get("v6_mapping") or {}).items()},
        )

    @classmethod
    def from_labels(cls, labels: list[str], *, name: str = "custom", category: str = "General") -> Framework:
        """A flat framework (one category) for label sets found in training data."""
        return cls(name=name, version="custom", labels=tuple(Label(str(x), category) for x in labels))


def _read_csv_framework(path: Path) -> dict[str, Any]:
    from carelens.tables import read_table

    frame = read_table(path, dtype_str=True)
    name_col = next((c for c in frame.columns if c.lower() in ("label", "name", "sub-category", "subcategory", "sub_category")), None)
    if name_col is None:
        raise ConfigError(
            "a CSV framework needs a 'label' column (and optionally 'category', 'description')",
            file=str(path),
            field="label",
        )
    cat_col = next((c for c in frame.columns if c.lower() == "category"), None)
    desc_col = next((c for c in frame.columns if c.lower() == "description"), None)
    categories: dict[str, list[dict[str, str]]] = {}
    for i, row in enumerate(frame.itertuples(index=False, name=None)):
        values = dict(zip(frame.columns, row))
        label = values.get(name_col)
        if label is None or str(label).strip() in ("", "nan", "<NA>"):
            raise ConfigError("blank label name", file=str(path), row=i + 2, field=name_col)
        cat = str(values.get(cat_col) or "General") if cat_col else "General"
        desc = str(values.get(desc_col) or "") if desc_col else ""
        categories.setdefault(cat, []).append({"name": str(label).strip(), "description": desc})
    return {"name": path.stem, "categories": [{"name": c, "labels": ls} for c, ls in categories.items()]}


def load_framework(source: str | Path | None = None) -> Framework:
    """Load a framework: ``None``/"v7" for the packaged default, else a YAML, JSON or CSV file."""
    if source is None or str(source) == DEFAULT_FRAMEWORK:
        text = resources.files("carelens.feedback").joinpath("frameworks", "v7.yaml").read_text("utf-8")
        return Framework.from_dict(yaml.safe_load(text), source="v7.yaml")
    path = Path(source)
    if not path.exists():
        raise ConfigError("framework file not found", file=str(path))
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            data = yaml.safe_load(path.read_text("utf-8-sig"))
        elif suffix == ".json":
            data = json.loads(path.read_text("utf-8-sig"))
        elif suffix in (".csv", ".xlsx"):
            data = _read_csv_framework(path)
        else:
            raise ConfigError("framework must be .yaml, .json, .csv or .xlsx", file=str(path))
    except (yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"could not parse the framework: {exc}".splitlines()[0], file=str(path)) from exc
    return Framework.from_dict(data, source=str(path))


@lru_cache(maxsize=4)
def model_framework(model_dir: str | None = None) -> Framework:
    """The framework a feedback model was trained with (its ``framework.json``), or the packaged v7
    when ``model_dir`` is empty (the packaged model's). Read once per process and model folder: the
    dashboard asks on every page view and correction."""
    if not model_dir:
        return load_framework()
    path = Path(model_dir) / "framework.json"
    return Framework.from_dict(json.loads(path.read_text("utf-8")), source=str(path))


def framework_as_json(framework: Framework) -> str:
    return json.dumps(framework.to_dict(), ensure_ascii=False, indent=2)


__all__ = ["Framework", "Label", "LABELLING_NOT_POSSIBLE", "load_framework", "model_framework", "framework_as_json"]
