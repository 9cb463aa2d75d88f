#!/usr/bin/env python3
"""Evaluates every expression of the dashboards and of the rule files on breakwatch and on a
Prometheus scraping it, and compares the label sets of the two answers.

usage: compare_exprs.py --breakwatch URL --prometheus URL [--prometheus-config FILE]
                        [--drop-label NAME]... [--dashboards DIR] [--rules DIR]
                        [--attempts N] [--lag SECONDS] [--verbose]

Expressions: every target's expr of DIR/*.json (default monitoring/grafana/dashboards), with
Grafana's built-in variables and the dashboard's own replaced exactly as
tools/check_dashboards.py replaces them (its dashboard_queries), and every rule's expr,
recording and alerting, of every *.yml / *.yaml under the rules directory (default
monitoring/rules). The same expression in several places is evaluated once and reported
with all of them.

Each is run as an instant query (/api/v1/query) on both at one evaluation time T, LAG
seconds in the past (default 1.5, so that both have recorded the second before it), the same
T for both. The answers agree when they have the same result type and the same label sets
(as multisets). Only instant queries: live, the two sample the engine at different phases, so
over a range a fast-changing filter (a state held for less than a scrape) can be seen by one
and not the other; range evaluation against Prometheus is compared exactly, on identical
backfilled data, by tests/integration/test_differential.sh. Prometheus attaches its target labels to every sample it scrapes; breakwatch
answers from its own history, which has none. Exactly those labels are removed from
Prometheus's answers, and only from them, before comparing: job and instance, the labels of
static_configs and every relabel_configs target_label of each scrape config in
--prometheus-config, plus any --drop-label. (A label breakwatch itself added under one of
those names would then show as a difference, as it should.)

Data: every expression must return data. An alerting rule's expression is a condition, empty
on a healthy run, so its operands are evaluated as well: the sides of its top-level
comparisons and and / or / unless (found by a small tokenizer that respects parentheses,
brackets, braces, strings and comments, skips the operators' bool / on / ignoring /
group_left / group_right modifiers, splits a parenthesized side again and skips scalar
literals). Each operand must return data and agree, while the whole expression must still
agree (both may be empty). A recording rule or dashboard expression that returns nothing on
both sides and is such a condition (instance:engine_paused:1m on a running engine) is
treated the same way. An operand still empty on both sides is resolved once more: a bare
recorded series by its recording rule's expression (split again), one with an `offset` by
the same operand without it (a run younger than the offset has no data that far back; the
operand with the offset must still agree).

Transients: the two sample the process at different instants (breakwatch records on its own
clock, Prometheus scrapes on its own phase), so a series born between the two, or an alert
going from pending to firing, can disagree for a second. Every expression with a problem is
evaluated again at a new T, a second later, up to --attempts times in all (default 5); the
ones that agreed only on a retry are listed with what differed first. What still fails is
reported with the expression, where it comes from and the label sets found on one side only.

Exit status: 0 when every expression agrees and returns data, 1 otherwise, 2 for bad usage.
Standard library plus PyYAML only.
"""
import argparse
import collections
import glob
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

from check_dashboards import dashboard_queries

SET_OPERATORS = {"and", "or", "unless"}
MODIFIERS = {"bool", "on", "ignoring", "group_left", "group_right"}
IDENT_RE = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
SCALAR_RE = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[iI]nf|[nN]a[nN])")
OFFSET_RE = re.compile(r"\s+offset\s+-?(?:\d+(?:ms|[smhdwy]))+", re.IGNORECASE)
MAX_RESOLVE_DEPTH = 4


# ---- the tokenizer: operands of a condition ----

def skip_string(expr, i):
    """The index after the string literal that starts at EXPR[i] (a quote)."""
    quote, j = expr[i], i + 1
    while j < len(expr):
        if expr[j] == "\\" and quote != "`":
            j += 2
        elif expr[j] == quote:
            return j + 1
        else:
            j += 1
    return len(expr)


def walk(expr, start=0):
    """(index, char, depth) for every character of EXPR from START outside strings and
    comments; depth counts the open (, [ and { before it (a closer has its opener's depth)."""
    depth, i = 0, start
    while i < len(expr):
        c = expr[i]
        if c in "\"'`":
            i = skip_string(expr, i)
            continue
        if c == "#":
            end = expr.find("\n", i)
            i = len(expr) if end < 0 else end
            continue
        if c in ")]}":
            depth -= 1
        yield i, c, depth
        if c in "([{":
            depth += 1
        i += 1


def closing(expr, i):
    """The index of the bracket closing the one at EXPR[i], or -1."""
    for j, c, depth in walk(expr, i):
        if j > i and depth == 0 and c in ")]}":
            return j
    return -1


def skip_space(expr, i):
    while i < len(expr) and expr[i].isspace():
        i += 1
    return i


def skip_modifiers(expr, i):
    """The index after the modifiers that may follow a binary operator ending at I: bool,
    on (…), ignoring (…), group_left [(…)], group_right [(…)]."""
    while True:
        m = IDENT_RE.match(expr, skip_space(expr, i))
        if not m or m.group(0).lower() not in MODIFIERS:
            return i
        i = m.end()
        if m.group(0).lower() != "bool":
            j = skip_space(expr, i)
            if j < len(expr) and expr[j] == "(":
                end = closing(expr, j)
                i = len(expr) if end < 0 else end + 1


def split_top(expr):
    """The sides of EXPR's comparison and set operators at nesting depth 0, in order, or None
    when it has none there."""
    parts, start, skip_to = [], 0, 0
    for i, c, depth in walk(expr):
        if i < skip_to or depth != 0:
            continue
        end = None
        if expr.startswith(("==", "!=", ">=", "<="), i):
            end = i + 2
        elif c in "<>":
            end = i + 1
        elif IDENT_RE.match(c) and not (i > 0 and re.match(r"[A-Za-z0-9_:.]", expr[i - 1])):
            word = IDENT_RE.match(expr, i)
            if word.group(0).lower() in SET_OPERATORS:
                end = word.end()
            else:
                skip_to = word.end()  # a name: none of its letters starts an operator
                continue
        if end is not None:
            parts.append(expr[start:i].strip())
            start = skip_to = skip_modifiers(expr, end)
    if not parts:
        return None
    parts.append(expr[start:].strip())
    return parts


def strip_parens(expr):
    """EXPR without the parentheses that enclose all of it."""
    expr = expr.strip()
    while expr.startswith("(") and closing(expr, 0) == len(expr) - 1:
        expr = expr[1:-1].strip()
    return expr


def operands(expr):
    """The operands of the condition EXPR — its top-level comparison and set operators' sides,
    a parenthesized side split again, scalar literals skipped — or None if EXPR is no
    condition."""
    parts = split_top(strip_parens(expr))
    if parts is None:
        return None
    out = []
    for p in parts:
        p = strip_parens(p)
        if SCALAR_RE.fullmatch(p):
            continue
        inner = operands(p)
        out.extend(x for x in (inner if inner is not None else [p]) if x not in out)
    return out


# ---- collecting the expressions ----

def collect(dashboards_dir, rules_dir):
    """(expressions, records, files): expressions maps (expr, is_alert) to the places it is
    used; records maps a recording rule's name to its expression."""
    exprs = collections.OrderedDict()
    records, files = {}, []
    for path in sorted(glob.glob(os.path.join(dashboards_dir, "*.json"))):
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        files.append(path)
        for panel, target, expr in dashboard_queries(doc):
            where = f"{path}: panel {panel.get('id')} ({panel.get('title', '')}): target {target.get('refId')}"
            exprs.setdefault((expr, False), []).append(where)
    rule_files = sorted(os.path.join(d, f) for d, _, names in os.walk(rules_dir)
                        for f in names if f.endswith((".yml", ".yaml")))
    for path in rule_files:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh) or {}
        files.append(path)
        for g in doc.get("groups") or []:
            for r in g.get("rules") or []:
                alert = "alert" in r
                name = r.get("alert") or r.get("record")
                where = f"{path}: group {g.get('name')}: {'alert' if alert else 'record'} {name}"
                exprs.setdefault((r["expr"].strip(), alert), []).append(where)
                if not alert:
                    records[name] = r["expr"].strip()
    return exprs, records, files


def target_labels(config_path):
    """The labels a Prometheus configuration's scrape configs attach to what they scrape."""
    with open(config_path, encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh) or {}
    labels = set()
    for sc in cfg.get("scrape_configs") or []:
        labels |= {"job", "instance"}
        for st in sc.get("static_configs") or []:
            labels |= set((st.get("labels") or {}).keys())
        for rc in sc.get("relabel_configs") or []:
            if rc.get("target_label"):
                labels.add(rc["target_label"])
    return labels


# ---- evaluating ----

def fmt_labels(labels):
    return "{" + ", ".join(f'{k}="{v}"' for k, v in labels) + "}"


class Answer:
    """One side's answer to one instant query: result type and label sets, or an error."""

    def __init__(self, url, expr, t, drop):
        self.error, self.type, self.sets = None, None, collections.Counter()
        body = urllib.parse.urlencode({"query": expr, "time": f"{t:.3f}"}).encode()
        try:
            req = urllib.request.Request(url + "/api/v1/query", data=body, method="POST")
            with urllib.request.urlopen(req, timeout=15) as resp:
                answer = json.load(resp)
        except urllib.error.HTTPError as e:
            try:
                answer = json.load(e)
            except (ValueError, AttributeError):
                answer = {"error": f"HTTP {e.code}"}
        except (urllib.error.URLError, OSError, ValueError) as e:
            answer = {"error": str(e)}
        if answer.get("status") != "success":
            self.error = answer.get("error") or "no success status"
            return
        data = answer.get("data") or {}
        self.type = data.get("resultType")
        if self.type in ("scalar", "string"):
            self.sets[()] = 1
            return
        for s in data.get("result") or []:
            metric = s.get("metric") or {}
            self.sets[tuple(sorted((k, v) for k, v in metric.items() if k not in drop))] += 1


class Comparer:
    def __init__(self, bw, prom, drop, records):
        self.bw, self.prom, self.drop, self.records = bw, prom, drop, records
        self.cache = {}
        self.queries = 0

    def pair(self, expr, t):
        """(breakwatch's Answer, Prometheus's Answer) for EXPR at T, cached for this T."""
        key = (expr, t)
        if key not in self.cache:
            self.cache[key] = (Answer(self.bw, expr, t, ()), Answer(self.prom, expr, t, self.drop))
            self.queries += 2
        return self.cache[key]

    def compare(self, what, expr, t, problems):
        """Runs EXPR on both at T; appends to PROBLEMS what disagrees; returns whether both
        answered nothing."""
        b, p = self.pair(expr, t)
        for side, a in (("breakwatch", b), ("Prometheus", p)):
            if a.error:
                problems.append(f"{what}: {side} failed: {a.error}")
        if b.error or p.error:
            return False
        if b.type != p.type:
            problems.append(f"{what}: result type {b.type} on breakwatch, {p.type} on Prometheus")
        elif b.sets != p.sets:
            only_b, only_p = b.sets - p.sets, p.sets - b.sets
            problems.append(f"{what}: label sets differ"
                            + "".join(f"\n      only on breakwatch: {fmt_labels(s)}" for s in sorted(only_b))
                            + "".join(f"\n      only on Prometheus: {fmt_labels(s)}" for s in sorted(only_p)))
        return not b.sets and not p.sets

    def resolve(self, leaf):
        """What an operand empty on both sides stands for: (how, [expressions]), or None."""
        if IDENT_RE.fullmatch(leaf) and leaf in self.records:
            body = self.records[leaf]
            return f"recorded by `{body}`", operands(body) or [body]
        if OFFSET_RE.search(leaf):
            return "without its offset", [OFFSET_RE.sub("", leaf)]
        return None

    def check_operand(self, leaf, t, problems, depth=0):
        if not self.compare(f"operand `{leaf}`", leaf, t, problems):
            return
        resolved = self.resolve(leaf) if depth < MAX_RESOLVE_DEPTH else None
        if resolved is None:
            problems.append(f"operand `{leaf}`: no data on either side")
            return
        for sub in resolved[1]:
            self.check_operand(sub, t, problems, depth + 1)

    def check(self, expr, alert, t):
        """The problems of the expression EXPR (an alerting rule's if ALERT) at T."""
        problems = []
        empty = self.compare("the expression", expr, t, problems)
        leaves = operands(expr)
        if leaves is not None and (alert or empty):
            for leaf in leaves:
                self.check_operand(leaf, t, problems)
        elif empty:
            problems.append("the expression: no data on either side")
        return problems


def main(argv):
    mon = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "monitoring"))
    ap = argparse.ArgumentParser(description="Compare every dashboard and rule expression on breakwatch and Prometheus.")
    ap.add_argument("--breakwatch", required=True, help="breakwatch base URL")
    ap.add_argument("--prometheus", required=True, help="Prometheus base URL (scraping that breakwatch)")
    ap.add_argument("--prometheus-config", help="Prometheus's configuration: the labels its scrape configs attach are dropped")
    ap.add_argument("--drop-label", action="append", default=[], metavar="NAME",
                    help="another label Prometheus attaches, dropped from its answers")
    ap.add_argument("--dashboards", default=os.path.join(mon, "grafana", "dashboards"))
    ap.add_argument("--rules", default=os.path.join(mon, "rules"))
    ap.add_argument("--attempts", type=int, default=5, help="evaluations of a failing expression in all")
    ap.add_argument("--lag", type=float, default=1.5, help="T is this many seconds before now")
    ap.add_argument("--verbose", action="store_true", help="print every expression and its series count")
    args = ap.parse_args(argv)
    if args.attempts < 1 or args.lag < 0:
        ap.error("--attempts must be >= 1 and --lag >= 0")
    try:
        drop = set(args.drop_label) | (target_labels(args.prometheus_config) if args.prometheus_config else set())
        exprs, records, files = collect(args.dashboards, args.rules)
    except (OSError, ValueError, yaml.YAMLError, KeyError, TypeError, AttributeError) as e:
        print(f"cannot read the expressions or the configuration: {e}", file=sys.stderr)
        return 2
    if not drop:
        print("warning: no labels dropped from Prometheus's answers (no --prometheus-config or --drop-label)",
              file=sys.stderr)
    cmp = Comparer(args.breakwatch.rstrip("/"), args.prometheus.rstrip("/"), drop, records)
    pending = list(exprs)
    first = {}  # key -> the problems of its first attempt
    attempt_of = {}  # key -> the attempt it agreed at
    last = {}
    t = None
    for attempt in range(1, args.attempts + 1):
        if t is not None:  # a new T, at least a second after the last one
            time.sleep(max(0.0, t + 1.0 + args.lag - time.time()))
        t = time.time() - args.lag
        failing = []
        for key in pending:
            problems = cmp.check(key[0], key[1], t)
            if problems:
                first.setdefault(key, problems)
                last[key] = (problems, t)
                failing.append(key)
            else:
                attempt_of[key] = attempt
                last.pop(key, None)
                if args.verbose:
                    n = sum(cmp.pair(key[0], t)[0].sets.values())
                    print(f"agreed ({n} series): {key[0]!r}")
        pending = failing
        if not pending:
            break

    retried = [k for k, a in attempt_of.items() if a > 1]
    for key in retried:
        print(f"transient, agreed at attempt {attempt_of[key]}: {exprs[key][0]}\n  expr: {key[0]}\n  first: "
              + "\n  first: ".join(first[key]))
    for key in pending:
        problems, at = last[key]
        more = f" (and {len(exprs[key]) - 1} more places)" if len(exprs[key]) > 1 else ""
        print(f"DIFFERS after {args.attempts} attempts (last T={at:.3f}): {exprs[key][0]}{more}\n  expr: {key[0]}")
        for p in problems:
            print(f"    {p}")
    places = sum(len(v) for v in exprs.values())
    print(f"{len(attempt_of)} of {len(exprs)} distinct expressions ({places} places in {len(files)} files) agreed "
          f"on breakwatch and Prometheus with data, {len(retried)} of them on a retry at a new T; "
          f"{len(pending)} differ; {cmp.queries} queries; labels dropped from Prometheus's answers: "
          f"{', '.join(sorted(drop)) or 'none'}")
    return 1 if pending else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
