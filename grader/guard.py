"""Cells the grader adds around a submission so that monkeypatching cannot pass a test.

After the setup cell, SNAPSHOT records the modules the tests rely on (NumPy, PyTorch,
math, the course's helpers, builtins): every attribute, and the code of every
function. Before each graded cell, GUARD puts all of it back, including
``sys.modules`` entries and the setup cell's names in the notebook's namespace.
Both cells are removed again before the notebook is scored and shown as feedback.

This defeats the usual tricks (``np.testing.assert_allclose = lambda *a, **k: None``,
``np.allclose = ...``, ``builtins.abs = ...``, ``sys.modules['numpy'] = fake``,
replacing a helper's ``__code__``). Code that runs in the same process can always
dig deeper (e.g. find and disable the guard itself); the instructor's guide says so.
"""

MARK = "dlcourse_guard"
# The first line the grader puts on the code it sends for each cell it owns, followed by the
# cell's role (setup, snapshot, guard, test); the grading kernel (grader.protect) acts on it.
MARKER = "# dlcourse grader cell: "

SNAPSHOT = r'''
def __dlcourse_make_guard():
    import builtins, importlib, sys, types, warnings
    # Some submodules load lazily (numpy.testing in NumPy 2): load the ones tests use now,
    # so that they are recorded before any student code runs.
    for name in ("numpy.testing", "numpy.linalg", "numpy.random", "torch.testing", "torch.nn.functional"):
        if name.split(".")[0] in sys.modules:
            try:
                importlib.import_module(name)
            except ImportError:
                pass
    watched = [name for name in sys.modules
               if name.split(".")[0] in {"numpy", "torch", "math", "dlcourse", "builtins", "operator", "functools"}
               and not name.startswith("torch._dynamo")]
    modules = {name: sys.modules[name] for name in watched if isinstance(sys.modules.get(name), types.ModuleType)}
    attrs = {name: dict(vars(m)) for name, m in modules.items()}
    code = {}
    for d in attrs.values():
        for obj in d.values():
            if isinstance(obj, types.FunctionType):
                code[id(obj)] = (obj, obj.__code__, obj.__defaults__, obj.__kwdefaults__)
    user_ns = get_ipython().user_ns
    names = {k: v for k, v in user_ns.items() if not k.startswith("_") and k not in ("In", "Out", "exit", "quit")}
    builtin_names = dict(vars(builtins))

    def restore():
        for name, module in modules.items():
            sys.modules[name] = module
            current = vars(module)
            for key, value in attrs[name].items():
                if current.get(key, object()) is not value:
                    current[key] = value
        for obj, co, defaults, kwdefaults in code.values():
            if obj.__code__ is not co:
                obj.__code__ = co
            obj.__defaults__, obj.__kwdefaults__ = defaults, kwdefaults
        vars(builtins).update(builtin_names)
        user_ns.update(names)

    # IPython puts these into builtins while a cell runs and takes them out afterwards.
    swapped = {"input", "getpass", "get_ipython", "exit", "quit"}

    def changed():
        """What restore() would put back now: the grading kernel fails a test during which this grew."""
        found = [name for name, module in modules.items() if sys.modules.get(name) is not module]
        for name, module in modules.items():
            current = vars(module)
            # Only behaviour counts (a function, class or module replaced): modules change their data and
            # fill lazy caches as they are used.
            found += [f"{name}.{key}" for key, value in attrs[name].items()
                      if (callable(value) or issubclass(type(value), types.ModuleType))  # type(): no __getattr__ runs
                      and current.get(key, object()) is not value and not (name == "builtins" and key in swapped)]
        found += [f"{obj.__module__}.{obj.__qualname__}" for obj, co, defaults, kwdefaults in code.values()
                  if obj.__code__ is not co or obj.__defaults__ is not defaults]
        return found

    restore.changed = changed
    return restore

with __import__("warnings").catch_warnings():
    __import__("warnings").simplefilter("ignore")  # reading all of torch's attributes trips deprecation warnings
    __dlcourse_guard = __dlcourse_make_guard()
del __dlcourse_make_guard
'''.strip()

GUARD = "__dlcourse_guard()"
