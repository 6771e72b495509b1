"""An abstract interpreter for repro scripts: what may flow into ``result.json``.

It never executes the script.  It reads the script's AST (and the AST of the
bundle's own modules it imports or runs), and evaluates every expression to an
abstract value (:mod:`harness.evidence.values`) that says where the value may
come from: constants, data read at run time, ``repro.toml``, or somewhere the
analysis could not follow.

Design, kept simple on purpose:

* flow-insensitive per scope: a variable's value is the join of everything
  ever assigned to it, so ``x = 8.7`` on any path is seen;
* a condition on data makes what is assigned under it data (``if
  abs(g - 8.7) > 0.3: g = 8.7`` is a value chosen by data that still carries
  the literal 8.7 as a leaf);
* functions are analysed once (context-insensitive): a parameter is the
  join of its arguments over all calls, a call returns the join of the returns;
* the module bodies and function bodies are re-evaluated until nothing
  changes (values only grow, and are capped, so this ends);
* the sinks are the writes that can reach ``result.json``: ``json.dump`` to
  a file opened for writing, ``write``/``write_text`` of text, ``print`` to
  such a file or with stdout redirected to it, ``shutil.copy`` onto it.
  Text written by hand (``'{"gain": %s}'``, f-strings) keeps its parts apart
  so a key's value can still be found in it.
"""

from __future__ import annotations

import ast
import builtins
import json
import math
import operator
import posixpath
import statistics
import string
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from harness.evidence.values import (EMPTY, NOVALUE, _power, Alt, Val, combine, const, const_structure,
                                     dict_alt, flatten, join, seq_alt, source, val, with_kind)

MAX_ITERATIONS = 40
TIME_BUDGET_S = 10.0          # a script built to make the analysis slow is left undecided
MAX_SOURCE_BYTES = 2 * 1024 * 1024
BUNDLE_MOUNT = "/bundle"
RESULT_NAME = "result.json"

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
           ast.Pow: _power, ast.MatMult: operator.matmul,
           ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.BitOr: operator.or_,
           ast.BitXor: operator.xor, ast.BitAnd: operator.and_}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_,
          ast.Invert: operator.invert}
_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge}

# Functions whose result, on constant arguments, is a constant the analysis may compute.
_PURE_BUILTINS = {"abs", "round", "int", "float", "str", "bool", "len", "sum", "min", "max",
                  "sorted", "list", "tuple", "set", "frozenset", "zip", "range", "pow", "divmod",
                  "reversed", "enumerate", "any", "all", "format", "repr", "complex", "map",
                  "filter", "chr", "ord", "hex", "oct", "bin"}
_PURE_MODULES = {"math": math, "statistics": statistics, "operator": operator}
_SAFE_STR_METHODS = {"strip", "lstrip", "rstrip", "split", "rsplit", "replace", "lower", "upper",
                     "title", "join", "startswith", "endswith", "removeprefix", "removesuffix",
                     "zfill", "rjust", "ljust", "center", "count", "index", "find", "partition",
                     "splitlines", "casefold", "encode", "decode", "isdigit", "isnumeric"}
_UNFOLLOWABLE = {"exec", "eval", "compile", "__import__", "globals", "locals", "vars",
                 "importlib.import_module", "importlib.__import__", "builtins.exec",
                 "builtins.eval", "pickle.loads", "marshal.loads", "ctypes.CDLL"}
_LISTINGS = {"os.listdir", "os.scandir", "os.walk", "glob.glob", "glob.iglob", "os.getcwd"}
_RUN_OUTPUT = {"subprocess.run", "subprocess.check_output", "subprocess.Popen",
               "subprocess.getoutput", "subprocess.getstatusoutput", "os.popen", "os.system",
               "subprocess.call", "subprocess.check_call"}
_OPENERS = {"open", "io.open", "codecs.open", "builtins.open", "os.fdopen"}
_PATH_BUILDERS = {"os.path.join", "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath",
                  "pathlib.PurePosixPath", "os.path.expanduser", "os.fspath"}
_PATH_FUNCTIONS = {"os.path.dirname": posixpath.dirname, "os.path.basename": posixpath.basename,
                   "os.path.abspath": posixpath.normpath, "os.path.realpath": posixpath.normpath,
                   "os.path.normpath": posixpath.normpath, "os.path.splitext": posixpath.splitext}
_PATH_ATTRIBUTES = {"parent": lambda p: str(PurePosixPath(p).parent),
                    "name": lambda p: PurePosixPath(p).name,
                    "stem": lambda p: PurePosixPath(p).stem,
                    "suffix": lambda p: PurePosixPath(p).suffix}
_READER_PREFIXES = ("read", "load", "genfromtxt", "fromfile", "open")
_PASS_THROUGH = {"json.load", "tomllib.load", "tomllib.loads", "csv.reader", "csv.DictReader",
                 "toml.load", "toml.loads"}


class AnalysisTimeout(Exception):
    """The analysis ran out of its time budget; what it found so far is not used."""


@dataclass
class FuncInfo:
    key: tuple
    node: ast.AST
    module: "ModuleInfo"
    closure: "Scope"
    params: dict[str, Val] = field(default_factory=dict)
    ret: Val = EMPTY
    scope: "Scope | None" = None
    owner: tuple | None = None                  # the class, for methods


@dataclass
class ClassInfo:
    key: tuple
    name: str
    attrs: dict[str, Val] = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)    # annotated names (dataclass, NamedTuple)

    def add(self, name: str, value: Val, analyzer: "Interpreter") -> None:
        old = self.attrs.get(name, EMPTY)
        new = join(old, value)
        if new != old:
            self.attrs[name] = new
            analyzer.changed = True


@dataclass
class ModuleInfo:
    path: str                 # bundle-relative
    tree: ast.Module
    scope: "Scope | None" = None


class Scope:
    def __init__(self, module: ModuleInfo, parent: "Scope | None", analyzer: "Interpreter",
                 cls: ClassInfo | None = None):
        self.module = module
        self.parent = parent
        self.vars: dict[str, Val] = {}
        self.globals_: set[str] = set()
        self.analyzer = analyzer
        self.cls = cls

    def lookup(self, name: str) -> Val | None:
        scope = self
        while scope is not None:
            if name in scope.vars and (scope.cls is None or scope is self):
                return scope.vars[name]
            scope = scope.parent
        return None

    def assign(self, name: str, value: Val) -> None:
        target = self.module.scope if name in self.globals_ else self
        old = target.vars.get(name, EMPTY)
        new = join(old, value)
        if new != old:
            target.vars[name] = new
            self.analyzer.changed = True


class Interpreter:
    """Evaluate a script and the bundle modules it uses; collect what reaches result.json."""

    def __init__(self, bundle_root: Path, script: str):
        self.root = bundle_root
        self.script = script
        self.modules: dict[str, ModuleInfo] = {}
        self.funcs: dict[tuple, FuncInfo] = {}
        self.classes: dict[tuple, ClassInfo] = {}
        self.sinks: dict[tuple, Val] = {}
        self.stdout: Val = EMPTY
        self.stdout_to_result: list[tuple[str, int]] = []
        self.notes: list[str] = []
        self.changed = False
        self.final = False
        self._steps = 0
        self._deadline = time.monotonic() + TIME_BUDGET_S
        self._pending: list[str] = []
        self._comp_scopes: dict[tuple, Scope] = {}

    # -- driving -------------------------------------------------------------------

    def run(self) -> None:
        self._load(self.script, main=True)
        # First settle with unbound names as "nothing yet" (a module may still be loading),
        # then once more with the names still unbound as "unknown".
        for final in (False, True):
            self.final = final
            if not self._settle():
                self.notes.append("the analysis did not settle within its iteration limit; "
                                  "values may be incomplete")
                return

    def _settle(self) -> bool:
        for _ in range(MAX_ITERATIONS):
            if time.monotonic() > self._deadline:
                raise AnalysisTimeout(f"the analysis took longer than {TIME_BUDGET_S:g} s")
            self.changed = False
            self.sinks = {}
            for module in list(self.modules.values()):
                self._exec(module.tree.body, module.scope, EMPTY)
            for func in list(self.funcs.values()):
                self._exec_function(func)
            if not self.changed and not self._pending:
                return True
            while self._pending:
                self._load(self._pending.pop(), main=False)
        return False

    def _load(self, rel: str, main: bool) -> ModuleInfo | None:
        if rel in self.modules:
            return self.modules[rel]
        path = self.root / rel
        # Only the bundle's own files are read: a name the script spells ("/etc/x.py",
        # "../../x.py") must not make the analysis (which runs on the host) read elsewhere.
        if not _inside(path, self.root):
            self.notes.append(f"{rel} is outside the bundle; not analysed")
            return None
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.notes.append(f"could not read {rel}: {exc.strerror}")
            return None
        if len(data) > MAX_SOURCE_BYTES:
            self.notes.append(f"{rel} is larger than {MAX_SOURCE_BYTES // 1024 // 1024} MiB; "
                              "not analysed")
            return None
        try:
            tree = ast.parse(data, filename=rel)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None)
            self.notes.append(f"{rel}{f' line {line}' if line else ''} does not parse as Python: "
                              f"{getattr(exc, 'msg', exc)}")
            return None
        module = ModuleInfo(path=rel, tree=tree)
        module.scope = Scope(module, None, self)
        dunder_name = "__main__" if main else PurePosixPath(rel).with_suffix("").as_posix().replace("/", ".")
        module.scope.vars["__name__"] = const(dunder_name)
        module.scope.vars["__file__"] = const(f"{BUNDLE_MOUNT}/{rel}")
        self.modules[rel] = module
        self.changed = True
        return module

    def _resolve_module(self, name: str, from_file: str, level: int = 0) -> str | None:
        """A module name as the sandbox would import it: from the script's directory
        (sys.path[0]) or the bundle root (PYTHONPATH), as a bundle file."""
        parts = name.split(".") if name else []
        if level:
            base = PurePosixPath(from_file).parent
            for _ in range(level - 1):
                base = base.parent
            bases = [base]
        else:
            bases = [PurePosixPath(self.script).parent, PurePosixPath(".")]
        for base in bases:
            stem = base.joinpath(*parts) if parts else base
            for candidate in (stem.with_suffix(".py") if parts else None, stem / "__init__.py"):
                if candidate is None:
                    continue
                rel = PurePosixPath(*[p for p in candidate.parts if p not in (".", "")]).as_posix()
                if (self.root / rel).is_file():
                    return rel
        return None

    # -- statements ----------------------------------------------------------------

    def _exec_function(self, func: FuncInfo) -> None:
        if func.scope is None:
            func.scope = Scope(func.module, func.closure, self)
        for name, value in func.params.items():
            func.scope.vars[name] = join(func.scope.vars.get(name, EMPTY), value)
        body = func.node.body
        if isinstance(func.node, ast.Lambda):
            self._return(func, self.ev(body, func.scope), EMPTY)
        else:
            self._exec(body, func.scope, EMPTY, func)
            self._return(func, const(None), EMPTY)      # falling off the end returns None

    def _return(self, func: FuncInfo, value: Val, control: Val) -> None:
        value = self._under(value, control)
        new = join(func.ret, value)
        if new != func.ret:
            func.ret = new
            self.changed = True

    def _under(self, value: Val, control: Val) -> Val:
        """What is assigned under a condition that depends on data depends on data."""
        kinds = {a.kind for a in control}
        for kind in ("manifest", "unknown", "data"):
            if kind in kinds:
                alt = next(a for a in control if a.kind == kind)
                return with_kind(value, kind, f"chosen by a condition on line {alt.line}",
                                 alt.file, alt.line)
        return value

    def _exec(self, stmts: list[ast.stmt], scope: Scope, control: Val,
              func: FuncInfo | None = None) -> None:
        for stmt in stmts:
            self._stmt(stmt, scope, control, func)

    def _cond(self, node: ast.AST, scope: Scope, control: Val) -> Val:
        test = frozenset(a for a in flatten(self.ev(node, scope)) if a.kind != "const")
        return join(control, test)

    def _stmt(self, s: ast.stmt, scope: Scope, control: Val, func: FuncInfo | None) -> None:
        self._steps += 1
        if not self._steps % 256 and time.monotonic() > self._deadline:
            raise AnalysisTimeout(f"the analysis took longer than {TIME_BUDGET_S:g} s")
        f = scope.module.path
        if isinstance(s, ast.Assign):
            v = self._under(self.ev(s.value, scope), control)
            for t in s.targets:
                self._assign(t, v, scope)
        elif isinstance(s, ast.AnnAssign) and s.value is not None:
            self._assign(s.target, self._under(self.ev(s.value, scope), control), scope)
        elif isinstance(s, ast.AugAssign):
            old = self.ev(s.target, scope)
            new = combine(_BINOPS.get(type(s.op)), [old, self.ev(s.value, scope)], f, s.lineno)
            self._assign(s.target, self._under(new, control), scope)
        elif isinstance(s, (ast.For, ast.AsyncFor)):
            items = self.element_of(self.ev(s.iter, scope), f, s.lineno)
            self._assign(s.target, self._under(items, control), scope)
            inner = self._cond(s.iter, scope, control)
            self._exec(s.body, scope, inner, func)
            self._exec(s.orelse, scope, inner, func)
        elif isinstance(s, (ast.While, ast.If)):
            inner = self._cond(s.test, scope, control)
            self._exec(s.body, scope, inner, func)
            self._exec(s.orelse, scope, inner, func)
        elif isinstance(s, (ast.With, ast.AsyncWith)):
            for item in s.items:
                v = self.ev(item.context_expr, scope)
                if item.optional_vars is not None:
                    self._assign(item.optional_vars, self._under(v, control), scope)
            self._exec(s.body, scope, control, func)
        elif isinstance(s, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            self._exec(s.body, scope, control, func)
            for handler in s.handlers:
                if handler.name:
                    scope.assign(handler.name, source("data", "an exception", f, handler.lineno))
                self._exec(handler.body, scope, control, func)
            self._exec(s.orelse, scope, control, func)
            self._exec(s.finalbody, scope, control, func)
        elif isinstance(s, ast.Match):
            subject = self.ev(s.subject, scope)
            inner = self._cond(s.subject, scope, control)
            for case in s.cases:
                for node in ast.walk(case.pattern):
                    for name in (getattr(node, "name", None), getattr(node, "rest", None)):
                        if isinstance(name, str):
                            scope.assign(name, self.element_of(subject, f, s.lineno))
                self._exec(case.body, scope, inner, func)
        elif isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            scope.assign(s.name, val(self._func_alt(s, scope)))
        elif isinstance(s, ast.ClassDef):
            self._class(s, scope)
        elif isinstance(s, ast.Return):
            if func is not None:
                value = self.ev(s.value, scope) if s.value is not None else const(None)
                self._return(func, value, control)
        elif isinstance(s, (ast.Import, ast.ImportFrom)):
            self._import(s, scope)
        elif isinstance(s, (ast.Global, ast.Nonlocal)):
            if isinstance(s, ast.Global):
                scope.globals_.update(s.names)
        elif isinstance(s, ast.Expr):
            self._expr_stmt(s.value, scope, control)
        elif isinstance(s, (ast.Raise, ast.Assert, ast.Delete)):
            for node in ast.iter_child_nodes(s):
                if isinstance(node, ast.expr):
                    self.ev(node, scope)

    def _expr_stmt(self, e: ast.expr, scope: Scope, control: Val) -> None:
        """Calls that mutate a variable: ``d.update(...)``, ``xs.append(x)``, ``d.setdefault``."""
        if (isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute)
                and isinstance(e.func.value, (ast.Name, ast.Subscript, ast.Attribute))):
            method, target, f, line = e.func.attr, e.func.value, scope.module.path, e.lineno
            if method == "update":
                fields: dict[str, Val] = {}
                rest = []
                for a in e.args:
                    v = self.ev(a, scope)
                    for alt in v:
                        if alt.kind == "dict":
                            fields.update({k: join(fields.get(k, EMPTY), x) for k, x in alt.fields})
                            if alt.rest is not None:
                                rest.append(alt.rest)
                        else:
                            rest.append(val(alt))
                for kw in e.keywords:
                    if kw.arg is None:
                        rest.append(self.ev(kw.value, scope))
                    else:
                        fields[kw.arg] = join(fields.get(kw.arg, EMPTY), self.ev(kw.value, scope))
                new = dict_alt({k: self._under(v, control) for k, v in fields.items()},
                               self._under(join(*rest), control) if rest else None, f, line)
                self._assign(target, val(new), scope)
                return
            if method == "setdefault" and e.args:
                key = self._const_str(e.args[0], scope)
                v = self._under(self.ev(e.args[1], scope) if len(e.args) > 1 else const(None), control)
                new = dict_alt({key: v}, None, f, line) if key else dict_alt({}, v, f, line)
                self._assign(target, val(new), scope)
                return
            if method in ("append", "extend", "insert", "add"):
                args = [self.ev(a, scope) for a in e.args]
                if method == "extend" and args:
                    args = [self.element_of(args[0], f, line)]
                elif method == "insert" and len(args) == 2:
                    args = args[1:]
                self._assign(target, val(seq_alt(None, self._under(join(*args), control), f, line)),
                             scope)
                return
        self.ev(e, scope)

    def _assign(self, t: ast.AST, v: Val, scope: Scope) -> None:
        f = scope.module.path
        if isinstance(t, ast.Name):
            scope.assign(t.id, v)
        elif isinstance(t, (ast.Tuple, ast.List)):
            n = len(t.elts)
            for i, elt in enumerate(t.elts):
                if isinstance(elt, ast.Starred):
                    self._assign(elt.value, val(seq_alt(None, self.element_of(v, f, t.lineno),
                                                        f, t.lineno)), scope)
                else:
                    self._assign(elt, self.unpack(v, i, n, f, t.lineno), scope)
        elif isinstance(t, ast.Subscript):
            key = self._const_str(t.slice, scope)
            index = self.ev(t.slice, scope)
            owner = self.ev(t.value, scope)
            if key is not None:
                new = dict_alt({key: v}, None, f, t.lineno)
            elif any(a.kind == "seq" for a in owner):
                new = seq_alt(None, v, f, t.lineno)
            else:
                new = dict_alt({}, combine(None, [v, index], f, t.lineno)
                               if any(a.kind != "const" for a in flatten(index)) else v, f, t.lineno)
            self._assign(t.value, val(new), scope)
        elif isinstance(t, ast.Attribute):
            owner = self.ev(t.value, scope)
            for alt in owner:
                if alt.kind == "instance":
                    self.classes[alt.ref].add(t.attr, v, self)
                elif alt.kind == "ref" and alt.ref == "sys" and t.attr == "stdout":
                    self._redirect_stdout(v, f, t.lineno)
        elif isinstance(t, ast.Starred):
            self._assign(t.value, v, scope)

    def _func_alt(self, node: ast.AST, scope: Scope, owner: tuple | None = None) -> Alt:
        key = (scope.module.path, node.lineno, node.col_offset, getattr(node, "name", "lambda"))
        if key not in self.funcs:
            self.funcs[key] = FuncInfo(key=key, node=node, module=scope.module, closure=scope,
                                       owner=owner)
            self.changed = True
        return Alt("func", ref=key, file=scope.module.path, line=node.lineno)

    def _class(self, s: ast.ClassDef, scope: Scope) -> None:
        key = (scope.module.path, s.lineno, s.name)
        cls = self.classes.setdefault(key, ClassInfo(key=key, name=s.name))
        body_scope = Scope(scope.module, scope, self, cls=cls)
        for stmt in s.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                alt = self._func_alt(stmt, scope, owner=key)
                old = cls.attrs.get(stmt.name, EMPTY)
                if val(alt) - old:
                    cls.attrs[stmt.name] = join(old, val(alt))
            else:
                if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                        and stmt.target.id not in cls.fields):
                    cls.fields.append(stmt.target.id)
                self._stmt(stmt, body_scope, EMPTY, None)
        for name, value in body_scope.vars.items():
            cls.add(name, value, self)
        scope.assign(s.name, val(Alt("cls", ref=key, file=scope.module.path, line=s.lineno)))

    def _import(self, s: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        f = scope.module.path
        if isinstance(s, ast.Import):
            for alias in s.names:
                local = self._resolve_module(alias.name, f)
                if alias.asname:
                    scope.assign(alias.asname, self._module_val(local, alias.name, f, s.lineno))
                else:
                    top = alias.name.split(".")[0]
                    scope.assign(top, self._module_val(self._resolve_module(top, f), top, f, s.lineno))
                    if local:
                        self._load_later(local)
            return
        modname = s.module or ""
        local = self._resolve_module(modname, f, s.level)
        for alias in s.names:
            name = alias.asname or alias.name
            if alias.name == "*":
                self.notes.append(f"{f} line {s.lineno}: 'from {modname} import *' is not followed")
                continue
            if local:
                module = self._load_later(local)
                sub = self._resolve_module(f"{modname}.{alias.name}" if modname else alias.name,
                                           f, s.level)
                if sub and sub != local:
                    scope.assign(name, self._module_val(sub, alias.name, f, s.lineno))
                elif module is not None and module.scope is not None:
                    scope.assign(name, module.scope.vars.get(alias.name, EMPTY))
            elif s.level:
                scope.assign(name, source("unknown", f"'from {'.' * s.level}{modname} import "
                                          f"{alias.name}' is not a file of the bundle", f, s.lineno))
            else:
                scope.assign(name, _ref(f"{modname}.{alias.name}", f, s.lineno))

    def _load_later(self, rel: str) -> ModuleInfo | None:
        if rel in self.modules:
            return self.modules[rel]
        if rel not in self._pending:
            self._pending.append(rel)
            self.changed = True
        return None

    def _module_val(self, local: str | None, name: str, f: str, line: int) -> Val:
        if local:
            self._load_later(local)
            return val(Alt("module", ref=local, file=f, line=line))
        return _ref(name, f, line)

    # -- expressions ---------------------------------------------------------------

    def ev(self, e: ast.AST | None, scope: Scope) -> Val:
        if e is None:
            return const(None)
        f, line = scope.module.path, getattr(e, "lineno", 0)
        method = getattr(self, f"_ev_{type(e).__name__}", None)
        if method is not None:
            return method(e, scope, f, line)
        if isinstance(e, ast.expr):
            return combine(None, [self.ev(c, scope) for c in ast.iter_child_nodes(e)
                                  if isinstance(c, ast.expr)], f, line)
        return EMPTY

    def _ev_Constant(self, e, scope, f, line):
        return const(e.value, f, line, direct=True)

    def _ev_Name(self, e, scope, f, line):
        found = scope.lookup(e.id)
        if found is not None:
            return found
        if e.id in _PURE_BUILTINS or hasattr(builtins, e.id):
            return _ref(e.id, f, line)
        if not self.final:
            return EMPTY     # may be bound later (a module still to load, a later pass)
        return source("unknown", f"the name '{e.id}' is never assigned in the analysed code",
                      f, line)

    def _ev_BinOp(self, e, scope, f, line):
        left, right = self.ev(e.left, scope), self.ev(e.right, scope)
        if isinstance(e.op, ast.Add) and (_is_text(left) or _is_text(right)):
            return _text(list(_parts(left) + _parts(right)), f, line)
        if isinstance(e.op, ast.Mod) and _is_text(left):
            return self._percent_format(left, right, f, line)
        if isinstance(e.op, ast.Div) and _is_path(left, right):
            return self._path_join([left, right], f, line)
        return combine(_BINOPS.get(type(e.op)), [left, right], f, line)

    def _ev_UnaryOp(self, e, scope, f, line):
        return combine(_UNARY.get(type(e.op)), [self.ev(e.operand, scope)], f, line)

    def _ev_BoolOp(self, e, scope, f, line):
        return join(*(self.ev(v, scope) for v in e.values))

    def _ev_Compare(self, e, scope, f, line):
        vals = [self.ev(e.left, scope)] + [self.ev(c, scope) for c in e.comparators]
        ops = [_CMP.get(type(op)) for op in e.ops]

        def chain(*xs):
            return all(op(a, b) for op, a, b in zip(ops, xs, xs[1:]))
        return combine(chain if all(ops) else None, vals, f, line)

    def _ev_IfExp(self, e, scope, f, line):
        test = frozenset(a for a in flatten(self.ev(e.test, scope)) if a.kind != "const")
        return self._under(join(self.ev(e.body, scope), self.ev(e.orelse, scope)), test)

    def _ev_NamedExpr(self, e, scope, f, line):
        v = self.ev(e.value, scope)
        self._assign(e.target, v, scope)
        return v

    def _ev_JoinedStr(self, e, scope, f, line):
        parts: list = []
        for p in e.values:
            if isinstance(p, ast.Constant):
                parts.append(str(p.value))
            else:
                parts.append(self.ev(p.value, scope))
        return _text(parts, f, line)

    def _ev_List(self, e, scope, f, line):
        return self._sequence(e.elts, scope, f, line)

    _ev_Tuple = _ev_List
    _ev_Set = _ev_List

    def _sequence(self, elts, scope, f, line):
        items, starred = [], []
        for x in elts:
            if isinstance(x, ast.Starred):
                starred.append(self.element_of(self.ev(x.value, scope), f, line))
            else:
                items.append(self.ev(x, scope))
        if starred:
            return val(seq_alt(None, join(*items, *starred), f, line))
        values = [_single_const(v) for v in items]
        if items and all(v is not None for v in values):
            leaves = frozenset().union(*(a.leaves for v in items for a in v))
            return val(Alt("const", value=tuple(values), vkey=("tuple", tuple(map(repr, values))),
                           leaves=leaves, file=f, line=line))
        return val(seq_alt(items, None, f, line))

    def _ev_Dict(self, e, scope, f, line):
        fields: dict[str, Val] = {}
        rest: list[Val] = []
        for k, v in zip(e.keys, e.values):
            value = self.ev(v, scope)
            if k is None:                       # {**other}
                for alt in value:
                    if alt.kind == "dict":
                        for key, x in alt.fields:
                            fields[key] = join(fields.get(key, EMPTY), x)
                        if alt.rest is not None:
                            rest.append(alt.rest)
                    else:
                        rest.append(val(alt))
                continue
            key = self._const_str(k, scope)
            if key is not None:
                fields[key] = join(fields.get(key, EMPTY), value)
            else:
                rest.append(value)
        return val(dict_alt(fields, join(*rest) if rest else None, f, line))

    def _comprehension(self, e, scope: Scope, f, line) -> tuple[Scope, Val]:
        """The comprehension's own scope (kept between passes) and its control: which
        elements there are, and how many, depends on the iterables and the conditions."""
        key = (f, e.lineno, e.col_offset)
        inner = self._comp_scopes.get(key)
        if inner is None or inner.parent is not scope:
            inner = self._comp_scopes[key] = Scope(scope.module, scope, self)
        control = EMPTY
        for gen in e.generators:
            items = self.element_of(self.ev(gen.iter, inner), f, line)
            self._assign(gen.target, items, inner)
            control = self._cond(gen.iter, inner, control)
            for cond in gen.ifs:
                control = self._cond(cond, inner, control)
        return inner, control

    def _ev_ListComp(self, e, scope, f, line):
        inner, control = self._comprehension(e, scope, f, line)
        return val(seq_alt(None, self._under(self.ev(e.elt, inner), control), f, line))

    _ev_SetComp = _ev_ListComp
    _ev_GeneratorExp = _ev_ListComp

    def _ev_DictComp(self, e, scope, f, line):
        inner, control = self._comprehension(e, scope, f, line)
        key = self._const_str(e.key, inner)
        value = self._under(self.ev(e.value, inner), control)
        self.ev(e.key, inner)
        if key is not None:
            return val(dict_alt({key: value}, None, f, line))
        return val(dict_alt({}, value, f, line))

    def _ev_Lambda(self, e, scope, f, line):
        return val(self._func_alt(e, scope))

    def _ev_Starred(self, e, scope, f, line):
        return self.element_of(self.ev(e.value, scope), f, line)

    def _ev_Await(self, e, scope, f, line):
        return self.ev(e.value, scope)

    def _ev_Subscript(self, e, scope, f, line):
        owner = self.ev(e.value, scope)
        if isinstance(e.slice, ast.Slice):
            parts = [self.ev(p, scope) for p in (e.slice.lower, e.slice.upper, e.slice.step)]
            return combine(lambda o, a, b, c: o[a:b:c], [owner] + parts, f, line)
        return self.index(owner, self.ev(e.slice, scope), f, line)

    def _ev_Attribute(self, e, scope, f, line):
        return self.attribute(self.ev(e.value, scope), e.attr, f, line)

    # -- structure access ------------------------------------------------------------

    def _const_str(self, e: ast.AST, scope: Scope) -> str | None:
        v = self.ev(e, scope)
        value = _single_const(v)
        return value if isinstance(value, str) else None

    def index(self, owner: Val, idx: Val, f: str, line: int) -> Val:
        key = _single_const(idx)
        idx_kind = {a.kind for a in flatten(idx)} - {"const"}
        out = []
        for alt in owner:
            if alt.kind == "dict":
                hit = dict(alt.fields).get(key) if isinstance(key, str) else None
                if hit is not None:
                    out.append(hit)
                elif isinstance(key, str) and alt.rest is None:
                    continue
                else:
                    out.append(join(*(v for _, v in alt.fields), alt.rest or EMPTY))
            elif alt.kind == "seq":
                if alt.items is not None and isinstance(key, int) and -len(alt.items) <= key < len(alt.items):
                    out.append(alt.items[key])
                else:
                    out.append(join(*(alt.items or ()), alt.rest or EMPTY))
            elif alt.kind == "const" and alt.value is not NOVALUE and key is not None:
                out.append(_literal_part(combine(operator.getitem, [val(alt), idx], f, line), alt))
            elif alt.kind in ("module", "ref", "cls", "func"):
                out.append(source("unknown", "an indexed module or function", f, line))
            else:
                out.append(combine(None, [val(alt)], f, line))
        result = join(*out)
        if idx_kind:
            return combine(None, [result, idx], f, line)
        return result

    def unpack(self, v: Val, i: int, n: int, f: str, line: int) -> Val:
        out = []
        for alt in v:
            if alt.kind == "seq" and alt.items is not None and len(alt.items) == n:
                out.append(alt.items[i])
            elif alt.kind == "const" and isinstance(alt.value, tuple) and len(alt.value) == n:
                out.append(const(alt.value[i], alt.file, alt.line, direct=alt.direct,
                                 leaves=alt.leaves))
            else:
                out.append(self.element_of(val(alt), f, line))
        return join(*out)

    def element_of(self, v: Val, f: str, line: int) -> Val:
        out = []
        for alt in v:
            if alt.kind == "seq":
                out.append(join(*(alt.items or ()), alt.rest or EMPTY))
            elif alt.kind == "dict":
                out.append(join(*(const(k, f, line) for k, _ in alt.fields),
                                alt.rest or EMPTY))
            elif alt.kind == "const" and isinstance(alt.value, (tuple, str, frozenset, set)) \
                    and len(alt.value) <= 64:
                out.append(join(*(const(x, alt.file, alt.line, direct=alt.direct,
                                        leaves=alt.leaves if not alt.direct else ())
                                  for x in alt.value)) or const(NOVALUE, f, line))
            elif alt.kind == "text":
                out.append(join(*(p for p in alt.parts if not isinstance(p, str))) or const(NOVALUE))
            elif alt.kind == "buffer":
                out.append(self.stdout)
            else:
                out.append(combine(None, [val(alt)], f, line))
        return join(*out)

    def attribute(self, owner: Val, attr: str, f: str, line: int) -> Val:
        out = []
        for alt in owner:
            if alt.kind == "ref":
                out.append(self._ref_attribute(f"{alt.ref}.{attr}", f, line))
            elif alt.kind == "module":
                module = self.modules.get(alt.ref)
                if module is not None and module.scope is not None:
                    out.append(module.scope.vars.get(attr, EMPTY))
            elif alt.kind in ("instance", "cls"):
                cls = self.classes[alt.ref]
                for a in cls.attrs.get(attr, EMPTY):
                    if a.kind == "func" and alt.kind == "instance":
                        out.append(val(Alt("func", ref=a.ref, file=a.file, line=a.line,
                                           parts=(val(alt),))))   # a bound method: parts = (self,)
                    else:
                        out.append(val(a))
            elif alt.kind == "const" and isinstance(alt.value, str) and attr in _PATH_ATTRIBUTES:
                out.append(combine(_PATH_ATTRIBUTES[attr], [val(alt)], f, line))
            elif alt.kind == "data" and attr in _PATH_ATTRIBUTES:
                out.append(val(alt))
            else:
                out.append(val(Alt("method", ref=attr, parts=(val(alt),), file=f, line=line)))
        return join(*out)

    def _ref_attribute(self, qual: str, f: str, line: int) -> Val:
        if qual in ("os.environ", "sys.argv", "sys.stdin"):
            return source("data", f"{qual} (the run's environment)", f, line)
        if qual == "sys.stdout" or qual == "sys.__stdout__":
            return val(Alt("buffer", ref="stdout", file=f, line=line))
        module, _, name = qual.rpartition(".")
        if module in ("math", "sys", "string") and not name.startswith("_"):
            obj = getattr({"math": math, "sys": sys, "string": string}[module],
                          name, None)
            if isinstance(obj, (int, float, str)) and not isinstance(obj, bool):
                return const(obj, f, line)
        return _ref(qual, f, line)

    # -- calls ------------------------------------------------------------------------

    def _ev_Call(self, e, scope, f, line):
        callee = self.ev(e.func, scope)
        args = [self.ev(a, scope) for a in e.args]
        kwargs = {kw.arg: self.ev(kw.value, scope) for kw in e.keywords if kw.arg}
        starred = [self.ev(kw.value, scope) for kw in e.keywords if kw.arg is None]
        out = []
        for alt in callee:
            if alt.kind == "func":
                out.append(self._call_local(alt, args, kwargs, starred, e, f, line))
            elif alt.kind == "cls":
                out.append(self._instantiate(alt, args, kwargs, starred, e, f, line))
            elif alt.kind == "ref":
                out.append(self._call_ref(alt.ref, args, kwargs, e, scope, f, line))
            elif alt.kind == "method":
                out.append(self._call_method(alt.parts[0], alt.ref, args, kwargs, e, scope, f, line))
            elif alt.kind == "module":
                out.append(source("unknown", "a module called as a function", f, line))
            else:
                out.append(combine(None, [val(alt)] + args + list(kwargs.values()), f, line))
        return join(*out)

    def _bind(self, func: FuncInfo, args: list[Val], kwargs: dict[str, Val],
              starred: list[Val], f: str, line: int) -> None:
        node = func.node
        a = node.args
        positional = [p.arg for p in a.posonlyargs + a.args]
        bound: dict[str, Val] = {}
        for name, value in zip(positional, args):
            bound[name] = value
        extra = args[len(positional):]
        if a.vararg is not None:
            bound[a.vararg.arg] = val(seq_alt(extra if not starred else None,
                                              join(*starred) if starred else None, f, line))
        names = set(positional) | {p.arg for p in a.kwonlyargs}
        leftover = {}
        for name, value in kwargs.items():
            if name in names:
                bound[name] = join(bound.get(name, EMPTY), value)
            else:
                leftover[name] = value
        if a.kwarg is not None:
            bound[a.kwarg.arg] = val(dict_alt(leftover, join(*starred) if starred else None,
                                              f, line))
        if starred:   # f(*xs) / f(**d): any parameter may get any of them
            spread = self.element_of(join(*starred), f, line)
            for name in names:
                bound[name] = join(bound.get(name, EMPTY), spread)
        defaults = a.defaults
        for name, default in zip(positional[len(positional) - len(defaults):], defaults):
            if name not in bound:
                bound[name] = self.ev(default, func.closure)
        for p, default in zip(a.kwonlyargs, a.kw_defaults):
            if p.arg not in bound and default is not None:
                bound[p.arg] = self.ev(default, func.closure)
        for name, value in bound.items():
            old = func.params.get(name, EMPTY)
            new = join(old, value)
            if new != old:
                func.params[name] = new
                self.changed = True

    def _call_local(self, alt: Alt, args, kwargs, starred, e, f, line) -> Val:
        func = self.funcs[alt.ref]
        if alt.parts:                               # bound method: self first
            args = [alt.parts[0]] + args
        self._bind(func, args, kwargs, starred, f, line)
        return func.ret

    def _instantiate(self, alt: Alt, args, kwargs, starred, e, f, line) -> Val:
        cls = self.classes[alt.ref]
        instance = val(Alt("instance", ref=alt.ref, file=f, line=line))
        inits = [a for a in cls.attrs.get("__init__", EMPTY) if a.kind == "func"]
        for init in inits:
            self._bind(self.funcs[init.ref], [instance] + args, kwargs, starred, f, line)
        if not inits:
            # a generated __init__ (dataclass, NamedTuple): arguments become the fields
            spread = self.element_of(join(*starred), f, line) if starred else EMPTY
            for name, value in zip(cls.fields, args):
                cls.add(name, value, self)
            for name, value in kwargs.items():
                cls.add(name, value, self)
            for name in cls.fields if spread else ():
                cls.add(name, spread, self)
        return instance

    def _call_ref(self, name: str, args, kwargs, e, scope, f, line) -> Val:
        short = name.removeprefix("builtins.")
        everything = args + list(kwargs.values())
        if short in _UNFOLLOWABLE or name in _UNFOLLOWABLE:
            note = f"{f} line {line}: {short}() runs code the analysis cannot follow"
            if note not in self.notes:
                self.notes.append(note)
            return source("unknown", f"{short}() on line {line} cannot be followed", f, line)
        if short == "getattr":
            attr = _single_const(args[1]) if len(args) > 1 else None
            if isinstance(attr, str):
                return self.attribute(args[0], attr, f, line)
            return source("unknown", f"getattr() with a computed name on line {line}", f, line)
        if short in _OPENERS:
            mode = _single_const(args[1]) if len(args) > 1 else _single_const(kwargs.get("mode", EMPTY))
            return self.open_path(args[0] if args else kwargs.get("file", EMPTY),
                                  mode if isinstance(mode, str) else "r", f, line)
        if short == "print":
            printed = join(*args) if args else const("")
            self._add_stdout(printed)
            target = kwargs.get("file")
            if target is not None:
                self._sink_write(target, printed, f, line)
            return const(None)
        if short == "input" or name in ("sys.stdin.read", "sys.stdin.readline"):
            return source("data", "standard input", f, line)
        if name in ("os.getenv", "os.environ.get"):
            return source("data", "the run's environment", f, line)
        if name in _LISTINGS:
            return source("data", f"{name}() lists files", f, line)
        if name in _RUN_OUTPUT:
            self._load_scripts_named(everything)
            return join(self.stdout, source("data", f"the output of {name}()", f, line))
        if name in ("runpy.run_path", "runpy.run_module"):
            rel = self._load_scripts_named(args[:1])
            module = self.modules.get(rel) if rel else None
            if module is not None and module.scope is not None:
                return val(dict_alt(dict(module.scope.vars), None, f, line))
            return source("unknown", f"{name}() of a file that is not in the bundle", f, line)
        if name == "json.dump":
            if len(args) > 1 or "fp" in kwargs:
                self._sink_write(args[1] if len(args) > 1 else kwargs["fp"],
                                 val(Alt("json", rest=args[0] if args else kwargs.get("obj", EMPTY),
                                         file=f, line=line)), f, line)
            return const(None)
        if name == "json.dumps":
            return val(Alt("json", rest=args[0] if args else kwargs.get("obj", EMPTY), file=f,
                           line=line))
        if name == "json.loads":
            text = _single_const(args[0]) if args else None
            if isinstance(text, (str, bytes)):
                try:
                    return const_structure(json.loads(text), f, line)
                except ValueError:
                    pass
            return combine(None, args, f, line)
        if name in _PASS_THROUGH:
            return combine(None, args, f, line) if args else EMPTY
        if name.startswith("shutil.copy") or name == "shutil.move":
            if len(args) > 1:
                self._sink_write(args[1], self.read_path(args[0], f, line), f, line, path=True)
            return const(None)
        if name in ("contextlib.redirect_stdout",):
            if args:
                self._redirect_stdout(args[0], f, line)
            return const(None)
        if name in ("io.StringIO", "io.BytesIO"):
            return val(Alt("buffer", ref="memory", file=f, line=line))
        if name in _PATH_BUILDERS:
            return self._path_join(everything, f, line)
        if name in _PATH_FUNCTIONS:
            return combine(_PATH_FUNCTIONS[name], args[:1], f, line)
        if name in ("dict", "builtins.dict"):
            fields = dict(kwargs)
            rest = [combine(None, [a], f, line) for a in args] if args else []
            for a in args:
                for alt in a:
                    if alt.kind == "dict":
                        fields.update({k: join(fields.get(k, EMPTY), v) for k, v in alt.fields})
            return val(dict_alt(fields, join(*rest) if rest else None, f, line))
        last = name.rpartition(".")[2]
        if _external(name) and args and last.startswith(_READER_PREFIXES):
            # numpy.loadtxt, pandas.read_csv, ...: reading the file named by the first argument
            read = self.read_path(args[0], f, line)
            return join(read, combine(None, args[1:], f, line)) if args[1:] else read
        if _external(name) and not any(a.kind != "const" for v in everything for a in flatten(v)):
            # code from outside the bundle (an installed package) called on constants:
            # whatever it returns, the analysis cannot see where it comes from
            return source("unknown", f"{name}() is code outside the bundle", f, line)
        fn = self._pure_function(short) if not kwargs else None
        result = combine(fn, everything, f, line)
        if len(everything) == 1 and short in ("float", "int", "str", "round", "abs", "Decimal",
                                              "decimal.Decimal", "fractions.Fraction"):
            only = list(args[0])
            return _literal_part(result, only[0] if len(only) == 1 else None)
        return result

    def _pure_function(self, name: str):
        if name in _PURE_BUILTINS:
            return getattr(builtins, name)
        module, _, attr = name.rpartition(".")
        if module in _PURE_MODULES:
            fn = getattr(_PURE_MODULES[module], attr, None)
            return fn if callable(fn) else None
        return None

    def _call_method(self, receiver: Val, method: str, args, kwargs, e, scope, f, line) -> Val:
        out = []
        everything = args + list(kwargs.values())
        for alt in receiver:
            r = val(alt)
            if alt.kind == "handle":
                if method in ("write", "writelines") and args:
                    self._sink_write(r, args[0], f, line)
                out.append(const(None))
            elif alt.kind == "buffer":
                if method in ("write", "writelines") and args:
                    self._add_stdout(args[0])
                    out.append(const(None))
                else:
                    out.append(self.stdout)
            elif method in ("read_text", "read_bytes", "iterdir", "glob", "rglob", "exists",
                            "is_file", "stat") and alt.kind in ("const", "data", "text"):
                out.append(self.read_path(r, f, line))
            elif method == "open" and alt.kind in ("const", "data", "text"):
                mode = _single_const(args[0]) if args else _single_const(kwargs.get("mode", EMPTY))
                out.append(self.open_path(r, mode if isinstance(mode, str) else "r", f, line))
            elif method in ("write_text", "write_bytes") and alt.kind in ("const", "data", "text"):
                if args:
                    self._sink_write(r, args[0], f, line, path=True)
                out.append(const(None))
            elif method in ("joinpath", "with_name", "with_suffix") and alt.kind in ("const", "data", "text"):
                out.append(self._path_join([r] + args, f, line))
            elif method == "format" and alt.kind == "const" and isinstance(alt.value, str):
                out.append(self._str_format(alt, args, kwargs, f, line))
            elif alt.kind == "dict" and method in ("get", "pop", "setdefault"):
                key = _single_const(args[0]) if args else None
                hit = self.index(r, args[0] if args else EMPTY, f, line) if args else EMPTY
                default = args[1] if len(args) > 1 else const(None)
                out.append(join(hit, default) if not isinstance(key, str) or key not in dict(alt.fields)
                           else hit)
            elif alt.kind == "dict" and method in ("values", "items", "keys", "copy"):
                if method == "copy":
                    out.append(r)
                elif method == "keys":
                    out.append(val(seq_alt(None, self.element_of(r, f, line), f, line)))
                else:
                    vals = join(*(v for _, v in alt.fields), alt.rest or EMPTY)
                    if method == "items":
                        vals = join(vals, self.element_of(r, f, line))
                    out.append(val(seq_alt(None, vals, f, line)))
            elif alt.kind == "const" and alt.value is not NOVALUE and method in _SAFE_STR_METHODS \
                    and isinstance(alt.value, (str, bytes)):
                result = combine(lambda s, *xs: getattr(s, method)(*xs), [r] + args, f, line)
                out.append(_literal_part(result, alt) if method in ("strip", "lstrip", "rstrip")
                           else result)
            elif alt.kind == "const" and method in ("getvalue",):
                out.append(self.stdout)
            else:
                out.append(combine(None, [r] + everything, f, line))
        return join(*out)

    # -- files, stdout and sinks -------------------------------------------------------

    def _path_join(self, parts: list[Val], f: str, line: int) -> Val:
        def joined(*xs):
            return posixpath.normpath(str(PurePosixPath(*[str(x) for x in xs])))
        return combine(joined, parts, f, line)

    def open_path(self, path: Val, mode: str, f: str, line: int) -> Val:
        if any(c in mode for c in "wax+"):
            return val(Alt("handle", parts=(path,), file=f, line=line,
                           ref=_path_value(path) or "?"))
        return self.read_path(path, f, line)

    def read_path(self, path: Val, f: str, line: int) -> Val:
        name = _path_value(path)
        if name is not None:
            rel = _bundle_relative(name)
            if PurePosixPath(rel).name == "repro.toml" and rel.count("/") == 0:
                return source("manifest", f"reads repro.toml on line {line}", f, line)
            return source("data", f"reads {rel}", f, line)
        kinds = {a.kind for a in flatten(path)}
        if "manifest" in kinds:
            return source("manifest", f"reads a file named from repro.toml on line {line}", f, line)
        return source("data", f"reads a file whose name is computed on line {line}", f, line)

    def _is_result_target(self, target: Val, path: bool) -> bool:
        for alt in target:
            if alt.kind == "handle":
                if alt.ref == "?" or str(alt.ref).endswith(RESULT_NAME):
                    return True
            elif alt.kind == "buffer" and alt.ref == "stdout":
                continue
            elif path:
                name = _path_value(val(alt))
                if name is None or name.endswith(RESULT_NAME):
                    return True
        return False

    def _sink_write(self, target: Val, written: Val, f: str, line: int, path: bool = False) -> None:
        if any(a.kind == "buffer" for a in target):
            self._add_stdout(written)
        if self._is_result_target(target, path):
            key = (f, line)
            self.sinks[key] = join(self.sinks.get(key, EMPTY), written)

    def _add_stdout(self, printed: Val) -> None:
        new = join(self.stdout, printed)
        if new != self.stdout:
            self.stdout = new
            self.changed = True

    def _redirect_stdout(self, target: Val, f: str, line: int) -> None:
        if self._is_result_target(target, path=False) and (f, line) not in self.stdout_to_result:
            self.stdout_to_result.append((f, line))

    def _load_scripts_named(self, vals: list[Val]) -> str | None:
        found = None
        for v in vals:
            for alt in flatten(v) | frozenset(v):
                candidates = alt.value if isinstance(alt.value, tuple) else (alt.value,)
                for c in candidates:
                    if isinstance(c, str) and c.endswith(".py"):
                        rel = _bundle_relative(c)
                        if _inside(self.root / rel, self.root) and (self.root / rel).is_file():
                            self._load_later(rel)
                            found = found or rel
            for alt in v:
                if alt.kind == "seq" and alt.items:
                    found = found or self._load_scripts_named(list(alt.items))
        return found

    def _str_format(self, template: Alt, args, kwargs, f, line) -> Val:
        parts: list = []
        auto = 0
        try:
            pieces = list(string.Formatter().parse(template.value))
        except ValueError:
            return combine(None, [val(template)] + args, f, line)
        for literal, field_name, _, _ in pieces:
            parts.append(literal)
            if field_name is None:
                continue
            if field_name == "":
                parts.append(args[auto] if auto < len(args) else EMPTY)
                auto += 1
            elif field_name.isdigit():
                i = int(field_name)
                parts.append(args[i] if i < len(args) else EMPTY)
            else:
                parts.append(kwargs.get(field_name.split(".")[0].split("[")[0], EMPTY))
        return _text(parts, f, line)

    def _percent_format(self, left: Val, right: Val, f: str, line: int) -> Val:
        template = _single_const(left)
        if not isinstance(template, str):
            return combine(operator.mod, [left, right], f, line)
        values = []
        for alt in right:
            if alt.kind == "seq" and alt.items is not None:
                values = list(alt.items)
        if not values:
            values = [right]
        pieces = template.replace("%%", "\0").split("%")
        parts: list = [pieces[0].replace("\0", "%")]
        for i, piece in enumerate(pieces[1:]):
            spec_end = next((j for j, c in enumerate(piece) if c.isalpha()), len(piece))
            parts.append(values[i] if i < len(values) else right)
            parts.append(piece[spec_end + 1:].replace("\0", "%"))
        return _text(parts, f, line)


# -- helpers on values ---------------------------------------------------------------------

def _external(name: str) -> bool:
    """A name from outside the bundle and the standard library (an installed package)."""
    top = name.split(".")[0]
    return not (top in sys.stdlib_module_names or hasattr(builtins, top) or top == "builtins")


def _ref(name: str, f: str, line: int) -> Val:
    return val(Alt("ref", ref=name, file=f, line=line,
                   detail="external" if _external(name) else ""))


def _single_const(v: Val):
    """The constant value of `v` if it has exactly one known constant alternative."""
    consts = [a for a in v if a.kind == "const" and a.value is not NOVALUE]
    if len(consts) == 1 and len(v) == 1:
        return consts[0].value
    return None


def _is_text(v: Val) -> bool:
    return any(a.kind in ("text", "json") or (a.kind == "const" and isinstance(a.value, str))
               for a in v)


def _is_path(left: Val, right: Val) -> bool:
    return any(a.kind == "ref" and "Path" in str(a.ref) for a in left) or _is_text(right)


def _parts(v: Val) -> tuple:
    if len(v) == 1:
        (alt,) = v
        if alt.kind == "text":
            return alt.parts
        if alt.kind == "const" and isinstance(alt.value, str):
            return (alt.value,)
    return (v,)


def _text(parts: list, f: str, line: int) -> Val:
    parts = [p if isinstance(p, str) else _const_text(p) for p in parts]
    if all(isinstance(p, str) for p in parts):
        return const("".join(parts), f, line, direct=True)
    return val(Alt("text", parts=tuple(parts), file=f, line=line))


def _const_text(v: Val) -> str | Val:
    """A part of a built string: its text when it is one known constant (so
    ``"repro" + ".toml"`` is the name it spells), else the value itself."""
    value = _single_const(v)
    if isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)
                                  and not any(a.leaves for a in v)):
        return str(value)
    return v


def _literal_part(result: Val, source_alt: Alt | None) -> Val:
    """`float("8.7")`, `int(x)` of a literal: the result still comes from that literal."""
    if source_alt is None or not source_alt.direct:
        return result
    out = set()
    for alt in result:
        if alt.kind == "const":
            out.add(Alt("const", value=alt.value, vkey=alt.vkey, direct=True, leaves=alt.leaves,
                        file=source_alt.file, line=source_alt.line))
        else:
            out.add(alt)
    return frozenset(out)


def _path_value(path: Val) -> str | None:
    value = _single_const(path)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):
        return False


def _bundle_relative(name: str) -> str:
    p = PurePosixPath(name)
    if p.is_absolute():
        try:
            p = p.relative_to(BUNDLE_MOUNT)
        except ValueError:
            return name
    parts = []
    for part in p.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)
