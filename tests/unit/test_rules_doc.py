"""docs/rules.md is where a rule the gateway names can be looked up.

* Every rule reference (``R`` and a number) in a file git tracks, or in an untracked file it does not
  ignore, is a rule with its own heading and anchor in docs/rules.md; every link to ``rules.md#...``
  lands on an anchor there, and so does every link inside it.
* Every reason the code refuses with while naming a rule is in the catalogue of gateway/domain/errors.py
  and is mentioned in that rule's section of docs/rules.md.
* No file refers to the working notes the rules were first written from: the rules and their public
  sources are in docs/rules.md.
"""

from __future__ import annotations

import ast
import re
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from gateway.domain import rollout
from gateway.domain.errors import Category

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "rules.md"
ERRORS = ROOT / "gateway" / "domain" / "errors.py"

RULE_REF = re.compile(r"\bR(\d+)\b")
RULE_NAME = re.compile(r"R\d+")
HEADING = re.compile(r"^(#{1,6})\s+(.*)$", re.MULTILINE)
ANCHOR = re.compile(r'<a id="([\w-]+)"></a>')
RULE_ANCHOR = re.compile(r"r(\d+)")
LOCAL_LINK = re.compile(r"\]\(#([\w-]+)\)")
RULES_LINK = re.compile(r"rules\.md#([\w-]+)")
# Spelled in pieces so that this file does not mention them itself.
FORBIDDEN = ("domain" + ".md", "seed" + " 00", "seeds" + "/", "/work/" + "shared")


# --- the files ------------------------------------------------------------------------------------------------

@cache
def repository_files() -> tuple[Path, ...]:
    """What git tracks plus what it would add: untracked files it does not ignore."""
    try:
        listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                 cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git work tree")
    return tuple(ROOT / name for name in sorted(set(listing.decode().split("\0"))) if name and (ROOT / name).is_file())


def text_of(path: Path) -> str | None:
    """The file's text, or None for a binary file."""
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


# --- docs/rules.md ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Section:
    anchor: str
    heading: str
    text: str  # from the heading to the next heading of the same or a higher level


def sections(doc: str) -> dict[str, Section]:
    """Headings that carry an anchor, by anchor."""
    headings = list(HEADING.finditer(doc))
    found = {}
    for i, heading in enumerate(headings):
        anchor = ANCHOR.search(heading.group(2))
        if anchor is None:
            continue
        level = len(heading.group(1))
        end = next((h.start() for h in headings[i + 1:] if len(h.group(1)) <= level), len(doc))
        found[anchor.group(1)] = Section(anchor.group(1), heading.group(2), doc[heading.start():end])
    return found


def rule_sections(doc: str) -> dict[str, Section]:
    """``R4`` -> its section, for every heading anchored ``r4``."""
    return {f"R{m.group(1)}": s for a, s in sections(doc).items() if (m := RULE_ANCHOR.fullmatch(a))}


def rules_doc() -> str:
    assert RULES.is_file(), "docs/rules.md is missing"
    return RULES.read_text(encoding="utf-8")


def rule_references(files: tuple[Path, ...]) -> dict[str, list[str]]:
    """``R4`` -> ``path:line`` of every mention."""
    found: dict[str, list[str]] = {}
    for path in files:
        if (text := text_of(path)) is None:
            continue
        for number, line in ((m.group(1), text.count("\n", 0, m.start()) + 1) for m in RULE_REF.finditer(text)):
            found.setdefault(f"R{int(number)}", []).append(f"{path.relative_to(ROOT)}:{line}")
    return found


def undocumented(references: dict[str, list[str]], doc: str) -> dict[str, list[str]]:
    documented = rule_sections(doc)
    return {rule: where for rule, where in references.items() if rule not in documented}


# --- refusals in the code ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Named:
    reason: str
    rule: str
    where: str


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _arg(call: ast.Call, index: int, keyword: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[index] if len(call.args) > index else None


def _string(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _strings(node: ast.expr | None) -> list[str]:
    """A literal, or each branch of ``a if c else b`` between literals."""
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return [s] if (s := _string(node)) is not None else []


def _origin(tree: ast.Module, module: str, name: str) -> str | None:
    """The module a function name used in ``tree`` comes from."""
    if any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name for n in tree.body):
        return module
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any(a.name == name and a.asname is None for a in node.names):
            return node.module
    return None


# How each way of refusing says its reason and its rule: (reasons, rule argument) of a call. The rule of
# gateway.domain.rollout's refusals is computed from the reason, so it is asked of the function itself.
def _refusal(call: ast.Call) -> tuple[list[str], ast.expr | None]:
    return _strings(_arg(call, 1, "reason")), _arg(call, 3, "rule")


def _domain_refuse(call: ast.Call) -> tuple[list[str], ast.expr | None]:  # gateway.domain.bindings.refuse
    return _strings(_arg(call, 0, "reason")), _arg(call, 2, "rule")


def _require_status(call: ast.Call) -> tuple[list[str], ast.expr | None]:  # BINDING_NOT_{expected.name}
    expected = _arg(call, 1, "expected")
    return ([f"BINDING_NOT_{expected.attr}"] if isinstance(expected, ast.Attribute) else []), _arg(call, 2, "rule")


def _require_region(call: ast.Call) -> tuple[list[str], ast.expr | None]:  # NOT_{role.upper()}_REGION
    return [f"NOT_{role.upper()}_REGION" for role in _strings(_arg(call, 3, "role"))], _arg(call, 4, "rule")


def _member(call: ast.Call) -> tuple[list[str], ast.expr | None]:
    return ["MEMBER_NOT_FOUND"], _arg(call, 3, "rule")


STATIC = {("gateway.domain.errors", "Refusal"): _refusal,
          ("gateway.domain.bindings", "refuse"): _domain_refuse,
          ("gateway.domain.bindings", "require_status"): _require_status,
          ("gateway.service.bindings", "_require_region"): _require_region,
          ("gateway.service.bindings", "_member"): _member}
COMPUTED = {("gateway.domain.rollout", "refuse"):
            lambda reason: rollout.refuse(Category.FAILED_PRECONDITION, reason, "").rule}


@cache
def named_refusals() -> tuple[list[Named], list[str]]:
    """Every (reason, rule) the code can refuse with, and where an ``R..`` literal in the code is not
    understood as the rule of a refusal (this test must then learn the new way of refusing)."""
    named: list[Named] = []
    used: set[int] = set()
    literals: list[tuple[ast.Constant, str]] = []
    for path in sorted((ROOT / "gateway").rglob("*.py")):
        if "_proto" in path.parts:
            continue
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and RULE_NAME.fullmatch(node.value):
                literals.append((node, f"{path.relative_to(ROOT)}:{node.lineno}"))
            if isinstance(node, ast.FunctionDef) and (module, node.name) in COMPUTED:
                used.update(id(n) for n in ast.walk(node))  # the rule it computes is asked of it below
            if not isinstance(node, ast.Call) or (name := _name(node.func)) is None:
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            origin = (_origin(tree, module, name), name)
            if origin in COMPUTED:
                for reason in _strings(_arg(node, 1, "reason")):
                    if (rule := COMPUTED[origin](reason)) is not None:
                        named.append(Named(reason, rule, where))
            elif origin in STATIC:
                reasons, rule_node = STATIC[origin](node)
                if (rule := _string(rule_node)) is not None and RULE_NAME.fullmatch(rule):
                    assert reasons, f"{where}: names rule {rule}, but this test cannot tell the reason"
                    used.add(id(rule_node))
                    named += [Named(reason, rule, where) for reason in reasons]
    unexplained = [where for node, where in literals if id(node) not in used]
    return named, unexplained


def in_catalogue(reason: str, catalogue: str) -> bool:
    """Listed in full, or shortened (``BINDING_NOT_PENDING_...``) with the rest of its name given."""
    if re.search(rf"\b{reason}\b", catalogue):
        return True
    return any(reason.startswith(prefix) and reason[len(prefix) - 1:] in catalogue
               for prefix in re.findall(r"\b([A-Z][A-Z0-9_]*_)\.\.\.", catalogue))


# --- the tests ---------------------------------------------------------------------------------------------------

def test_every_rule_referred_to_has_a_heading_and_anchor_in_the_rules_doc():
    references = rule_references(repository_files())
    assert references, "no rule references found: the scan is broken"
    missing = undocumented(references, rules_doc())
    assert not missing, "rules referred to but without a heading anchored r<N> in docs/rules.md: " + "; ".join(
        f"{rule} (e.g. {', '.join(where[:3])})" for rule, where in sorted(missing.items()))


def test_each_rule_heading_names_its_rule_and_its_sources():
    for rule, section in rule_sections(rules_doc()).items():
        assert re.search(rf"\b{rule}\b", ANCHOR.sub("", section.heading)), f"{rule}: heading {section.heading!r}"
        assert re.search(r"Sources?:.*\(#src-", section.text, re.DOTALL), f"{rule}: its section names no source"


def test_links_to_the_rules_doc_land_on_anchors():
    doc = rules_doc()
    anchors = set(ANCHOR.findall(doc))
    broken = [f"#{a} (in docs/rules.md)" for a in LOCAL_LINK.findall(doc) if a not in anchors]
    for path in repository_files():
        if (text := text_of(path)) is not None:
            broken += [f"rules.md#{a} (in {path.relative_to(ROOT)})" for a in RULES_LINK.findall(text)
                       if a not in anchors]
    assert not broken, "links to missing anchors: " + ", ".join(broken)


def test_every_reason_naming_a_rule_is_catalogued_and_documented_under_that_rule():
    named, unexplained = named_refusals()
    assert not unexplained, ("rule literals not understood as the rule of a refusal (teach this test the new "
                             "way of refusing): " + ", ".join(unexplained))
    assert len({n.reason for n in named}) >= 20, "too few refusals found: the scan is broken"
    module_doc = ast.get_docstring(ast.parse(ERRORS.read_text(encoding="utf-8"))) or ""
    catalogue = module_doc[module_doc.index("Reasons in use"):]
    documented = rule_sections(rules_doc())
    problems = []
    for n in sorted(set(named), key=lambda n: (n.reason, n.rule, n.where)):
        if not in_catalogue(n.reason, catalogue):
            problems.append(f"{n.reason} ({n.where}) is not in the catalogue of gateway/domain/errors.py")
        if n.rule not in documented:
            problems.append(f"{n.reason} ({n.where}) names {n.rule}, which docs/rules.md does not have")
        elif not re.search(rf"\b{n.reason}\b", documented[n.rule].text):
            problems.append(f"{n.reason} ({n.where}) names {n.rule}, but docs/rules.md does not mention it there")
    assert not problems, "\n".join(problems)


def test_the_scan_finds_the_rules_of_every_kind_of_refusal():
    named, _ = named_refusals()
    pairs = {(n.reason, n.rule) for n in named}
    rules = rule_sections(rules_doc())
    assert {("GRANTOR_NOT_EMPLOYEE_INSURED", "R1"), ("IMPERSONATION", "R8"),  # direct
            ("CROSS_PROVINCE_CLOSED", "R5"), ("REGION_IN_PILOT", "R5"),  # computed by gateway.domain.rollout
            ("BINDING_NOT_PENDING_REVIEW", "R11"), ("NOT_BENEFICIARY_REGION", "R10"),  # built by helpers
            ("MEMBER_NOT_FOUND", "R1")} <= pairs
    assert "REGION_NOT_REGISTERED" not in {reason for reason, _ in pairs}  # refused under no rule
    assert set(rules) >= {rule for _, rule in pairs}


def test_a_rule_whose_anchor_is_removed_is_reported():
    doc = rules_doc()
    references = {"R4": ["README.md:1"], "R5": ["gateway/domain/rollout.py:1"]}
    assert undocumented(references, doc) == {}
    assert undocumented(references, doc.replace('<a id="r4"></a>', "")) == {"R4": ["README.md:1"]}


def test_no_file_refers_to_the_working_notes():
    found = []
    for path in repository_files():
        text = text_of(path)
        haystack = (text if text is not None else path.read_bytes().decode("latin-1")).lower()
        found += [f"{path.relative_to(ROOT)}: {word!r}" for word in FORBIDDEN if word in haystack]
    assert not found, "refer to docs/rules.md (rules and public sources) instead: " + "; ".join(found)
