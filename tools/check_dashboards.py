#!/usr/bin/env python3
"""Checks Grafana dashboard JSON files (monitoring/grafana/dashboards/) before Grafana sees them.

usage: check_dashboards.py [--provisioning DIR] [--url BREAKWATCH_URL] FILE...

Static checks on every file: valid JSON (file:line:col of the error), schemaVersion, uid and
title present (uid and title unique across the files: Grafana overwrites on a clash), panel
ids present and unique, gridPos inside the 24-column grid with no two panels overlapping,
every panel type one we support, every target with refId, expr and legendFormat, and every
datasource reference resolving either to a data source uid provisioned in DIR/datasources/
(default: monitoring/grafana next to this tool) or to a dashboard variable of type
datasource that lists prometheus data sources.

With --url, every target's expr is also run as an instant query against breakwatch's
/api/v1/query — Grafana's built-in intervals ($__rate_interval, $__interval, $__range…)
replaced by concrete durations, dashboard variables by their default or '.*' — and must
return data, and every {{label}} of its legendFormat must be a label of every series
returned.

Design: one pass collects problems as "file: panel N (title): what" lines; the exit status is
1 if there is any (2 for bad usage). Standard library plus PyYAML only. Importable: the
queries of a dashboard as they run (dashboard_queries, expand) are shared with
tools/compare_exprs.py.
"""
import argparse
import glob
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

import yaml

PANEL_TYPES = {"timeseries", "stat", "gauge", "heatmap", "state-timeline", "table"}
GRID_COLUMNS = 24
# Grafana's built-in variables, as concrete values for a query run now ($__interval is the
# panel's own minimum interval when it sets one).
BUILTINS = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__interval_ms": "15000",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
}
VAR_RE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")
LEGEND_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def provisioned_datasources(directory):
    """uid -> type of every data source provisioned under DIRECTORY/datasources/."""
    out = {}
    files = sorted(glob.glob(os.path.join(directory, "datasources", "*.yml")) +
                   glob.glob(os.path.join(directory, "datasources", "*.yaml")))
    for f in files:
        with open(f, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh) or {}
        for ds in doc.get("datasources") or []:
            if isinstance(ds, dict) and ds.get("uid"):
                out[str(ds["uid"])] = ds.get("type", "")
    return out


def variable_name(text):
    """The variable a string like "$ds", "${ds}" or "[[ds]]" names, or None."""
    m = VAR_RE.fullmatch(text or "")
    return next((g for g in m.groups() if g), None) if m else None


def flatten_panels(panels):
    """Every panel, rows' nested panels included (rows themselves are containers)."""
    for p in panels or []:
        if not isinstance(p, dict):
            continue
        if p.get("type") == "row":
            yield from flatten_panels(p.get("panels"))
        else:
            yield p


# ---- shared with tools/compare_exprs.py: a dashboard's queries as they run ----

def dashboard_variables(doc):
    """name -> definition of every template variable of the dashboard DOC."""
    return {v.get("name"): v for v in (doc.get("templating") or {}).get("list") or []
            if isinstance(v, dict)}


def expand(expr, panel, variables, builtins=None):
    """EXPR with Grafana's built-in variables (BUILTINS unless BUILTINS is given, $__interval
    the PANEL's own minimum interval when it sets one) and the dashboard's VARIABLES (their
    current value, '.*' for All or none) replaced; a variable it does not know stays as
    written."""
    values = dict(BUILTINS if builtins is None else builtins)
    interval = panel.get("interval")
    if isinstance(interval, str) and re.fullmatch(r"\d+[smhdwy]", interval):
        values["__interval"] = interval
    for name, v in variables.items():
        cur = (v.get("current") or {}).get("value")
        if isinstance(cur, list):
            cur = cur[0] if len(cur) == 1 else None
        values[name] = cur if cur and cur != "$__all" else ".*"

    def sub(m):
        name = next(g for g in m.groups() if g)
        return values.get(name, m.group(0))

    return VAR_RE.sub(sub, expr)


def dashboard_queries(doc, builtins=None):
    """(panel, target, expanded expr) for every target with a non-empty string expr of every
    panel of the dashboard DOC, rows' panels included; BUILTINS as for expand, or a function
    of the panel giving them."""
    variables = dashboard_variables(doc)
    for p in flatten_panels(doc.get("panels")):
        values = builtins(p) if callable(builtins) else builtins
        for t in p.get("targets") or []:
            if isinstance(t, dict) and isinstance(t.get("expr"), str) and t["expr"]:
                yield p, t, expand(t["expr"], p, variables, values)


def overlap(a, b):
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and \
        a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


class Checker:
    def __init__(self, datasources, url):
        self.datasources = datasources
        self.url = url.rstrip("/") if url else None
        self.problems = []
        self.uids = {}
        self.titles = {}

    def problem(self, where, what):
        self.problems.append(f"{where}: {what}")

    def load(self, path):
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as e:
            self.problem(path, f"cannot read: {e.strerror}")
            return None
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            self.problem(f"{path}:{e.lineno}:{e.colno}", f"invalid JSON: {e.msg}")
            return None
        if not isinstance(doc, dict):
            self.problem(path, "not a JSON object")
            return None
        return doc

    def check_file(self, path):
        doc = self.load(path)
        if doc is None:
            return
        if not isinstance(doc.get("schemaVersion"), int):
            self.problem(path, "no integer schemaVersion")
        for key, seen in (("uid", self.uids), ("title", self.titles)):
            value = doc.get(key)
            if not isinstance(value, str) or not value:
                self.problem(path, f"no {key}")
            elif value in seen:
                self.problem(path, f"{key} {value!r} also used by {seen[value]}")
            else:
                seen[value] = path
        variables = dashboard_variables(doc)
        for v in variables.values():
            if v.get("datasource") is not None:
                self.check_datasource(path, f"variable {v.get('name')}", v["datasource"], variables)
        panels = list(flatten_panels(doc.get("panels")))
        if not panels:
            self.problem(path, "no panels")
        ids = {}
        placed = []
        for p in panels:
            where = f"{path}: panel {p.get('id')} ({p.get('title', '')})"
            pid = p.get("id")
            if not isinstance(pid, int):
                self.problem(where, "no integer id")
            elif pid in ids:
                self.problem(where, f"id {pid} also used by panel ({ids[pid]})")
            else:
                ids[pid] = p.get("title", "")
            if p.get("type") not in PANEL_TYPES:
                self.problem(where, f"panel type {p.get('type')!r} is not one of {', '.join(sorted(PANEL_TYPES))}")
            pos = self.check_grid(where, p.get("gridPos"))
            if pos:
                for other_where, other in placed:
                    if overlap(pos, other):
                        self.problem(where, f"gridPos {pos} overlaps {other_where.split(': ', 1)[1]} at {other}")
                placed.append((where, pos))
            if p.get("datasource") is None:
                self.problem(where, "no datasource")
            else:
                self.check_datasource(where, "datasource", p["datasource"], variables)
            self.check_targets(where, p, variables)

    def check_grid(self, where, g):
        keys = ("x", "y", "w", "h")
        if not isinstance(g, dict) or not all(isinstance(g.get(k), int) for k in keys):
            self.problem(where, "gridPos needs integer x, y, w and h")
            return None
        pos = {k: g[k] for k in keys}
        if pos["x"] < 0 or pos["y"] < 0 or pos["w"] < 1 or pos["h"] < 1:
            self.problem(where, f"gridPos {pos}: x, y must be >= 0 and w, h >= 1")
            return None
        if pos["x"] + pos["w"] > GRID_COLUMNS:
            self.problem(where, f"gridPos {pos}: x+w = {pos['x'] + pos['w']} > {GRID_COLUMNS}")
        return pos

    def check_datasource(self, where, what, ref, variables):
        if isinstance(ref, str):  # the old form: a data source name or a variable
            uid, typ = ref, None
        elif isinstance(ref, dict):
            uid, typ = ref.get("uid"), ref.get("type")
        else:
            self.problem(where, f"{what} is neither an object nor a string")
            return
        var = variable_name(uid) if isinstance(uid, str) else None
        if var is not None:
            v = variables.get(var)
            if v is None:
                self.problem(where, f"{what} {uid} names no dashboard variable")
            elif v.get("type") != "datasource" or v.get("query") != "prometheus":
                self.problem(where, f"{what} {uid}: variable {var} is not of type datasource with query prometheus")
            elif typ not in (None, "prometheus"):
                self.problem(where, f"{what} {uid}: type {typ!r} but the variable lists prometheus data sources")
            return
        if uid not in self.datasources:
            known = ", ".join(sorted(self.datasources)) or "none"
            self.problem(where, f"{what} uid {uid!r} is not a provisioned data source (provisioned: {known})")
        elif typ is not None and typ != self.datasources[uid]:
            self.problem(where, f"{what} uid {uid!r} has type {typ!r}, provisioned as {self.datasources[uid]!r}")

    def check_targets(self, where, panel, variables):
        targets = panel.get("targets")
        if not isinstance(targets, list) or not targets:
            self.problem(where, "no targets")
            return
        refs = set()
        for t in targets:
            if not isinstance(t, dict):
                self.problem(where, "a target is not an object")
                continue
            ref = t.get("refId")
            if not ref:
                self.problem(where, "a target has no refId")
            elif ref in refs:
                self.problem(where, f"refId {ref} used twice")
            refs.add(ref)
            tw = f"{where}: target {ref}"
            missing = [k for k in ("expr", "legendFormat") if not isinstance(t.get(k), str)]
            if missing or not t.get("expr"):
                self.problem(tw, f"needs a non-empty expr and a legendFormat (missing: {', '.join(missing) or 'expr'})")
                continue
            if t.get("datasource") is not None:
                self.check_datasource(where, f"target {ref} datasource", t["datasource"], variables)
            if self.url:
                self.check_query(tw, panel, t, variables)

    def check_query(self, where, panel, target, variables):
        expr = expand(target["expr"], panel, variables)
        leftover = VAR_RE.search(expr)
        if leftover:
            self.problem(where, f"unknown variable {leftover.group(0)} in expr")
            return
        body = urllib.parse.urlencode({"query": expr}).encode()
        req = urllib.request.Request(self.url + "/api/v1/query", data=body, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                answer = json.load(resp)
        except urllib.error.HTTPError as e:
            try:
                detail = json.load(e).get("error", "")
            except (ValueError, AttributeError):
                detail = ""
            self.problem(where, f"query {expr!r} failed: HTTP {e.code} {detail}".rstrip())
            return
        except (urllib.error.URLError, OSError, ValueError) as e:
            self.problem(where, f"query {expr!r} failed: {e}")
            return
        data = answer.get("data") or {}
        result = data.get("result")
        if answer.get("status") != "success":
            self.problem(where, f"query {expr!r} failed: {answer.get('error', 'no success status')}")
            return
        if data.get("resultType") in ("scalar", "string"):
            series = [{}]
        elif not result:
            self.problem(where, f"query {expr!r} returned no data")
            return
        else:
            series = [s.get("metric") or {} for s in result]
        for label in LEGEND_RE.findall(target["legendFormat"]):
            without = sum(1 for m in series if label not in m)
            if without:
                self.problem(where, f"legendFormat label {{{{{label}}}}} is not in the result "
                                    f"({without} of {len(series)} series lack it)")


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="Check Grafana dashboard JSON files.")
    ap.add_argument("--provisioning", default=os.path.join(here, "..", "monitoring", "grafana"),
                    help="Grafana provisioning directory holding datasources/*.yml")
    ap.add_argument("--url", help="breakwatch base URL: run every target's expr against it")
    ap.add_argument("files", nargs="+", metavar="FILE")
    args = ap.parse_args(argv)
    try:
        datasources = provisioned_datasources(args.provisioning)
    except (OSError, yaml.YAMLError) as e:
        print(f"{args.provisioning}: cannot read data sources: {e}", file=sys.stderr)
        return 1
    checker = Checker(datasources, args.url)
    for f in args.files:
        checker.check_file(f)
    for p in checker.problems:
        print(p)
    return 1 if checker.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
