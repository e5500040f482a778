"""The grading kernel protects the cells the grader owns from the student's code in the same process.

A submission's cells and the hidden tests run in one IPython shell, so student code
can change how later cells run: an input or AST transformer rewrites them, an event
callback sees (and prints) their source, a replaced ``showtraceback`` or message
handler hides their failures, a trace function or signal handler patches NumPy in
the middle of them. ``GuardedKernel`` defends the grader's cells below all of that:

* The grader marks the code of each cell it owns (the setup cell, its guard cells and
  the chapter's test cells) with a first line ``MARKER + role`` (grader.execute).
* The kernel looks at each message when it arrives, in ``shell_main``, the callback
  that ipykernel captured when the kernel started: replacing ``shell_main``,
  ``dispatch_shell``, ``execute_request``, ``do_execute``, ``shell_handlers`` or
  any method of the kernel, the shell or their classes afterwards does not
  bypass it, because the restore below puts all of those back first.
* Right after the setup cell it records the shell's state (``Protector``); before
  every grader cell it puts that state back: input transformers (cleanup, line,
  token and post), AST transformers, event callbacks, display and traceback hooks,
  custom exception handlers, trace and profile functions, ``sys`` hooks, standard
  streams, garbage-collector callbacks, signal handlers and interval timers, the
  builtins, the attributes and methods of the shell, the kernel and their helper
  objects and of every class they are made of, and the guard function in the
  notebook's namespace. A grader cell runs synchronously (the event loop, where
  student code may have scheduled callbacks, does not run before it).
* After each grader cell the input history (``In``, ``_ih``, ``_i*``, the line
  cache of tracebacks, ``sys.last_*``) is cleared of its code, so that later
  student code cannot read hidden tests.
* A test cell does not run while a thread that the submission started is alive
  (it could patch NumPy between two lines of the test): the cell fails with that
  reason. After a test cell, anything the guard restores that changed while the
  test ran (student code called by the test) fails the cell.
* An audit hook, installed before any student code, refuses new audit hooks (they
  could not be removed again) and changes to the code of this module.

Code that deliberately walks the interpreter's internals (frames, ``gc``, ``ctypes``)
can still reach the grader's objects; the instructor's guide says what follows.
"""

import builtins
import gc
import linecache
import os
import signal
import sys
import threading
import types
import weakref

from ipykernel.ipkernel import IPythonKernel

from .guard import MARKER

CHECK_NAME = (
    "__dlcourse_guard"  # the guard function the SNAPSHOT cell defines (grader.guard)
)
THREAD_GRACE_S = 2.0  # how long a test waits for the submission's threads to end before it refuses to run
_BASE_SHELL_MAIN = (
    IPythonKernel.shell_main
)  # captured now, before any student code exists
_BASE_DO_EXECUTE = IPythonKernel.do_execute


def role_of(code) -> str:
    """'setup', 'snapshot', 'guard', 'test' for a grader cell's code, '' for any other."""
    if isinstance(code, str) and code.startswith(MARKER):
        return code[len(MARKER) :].split("\n", 1)[0].strip()
    return ""


# -- what is recorded and put back ------------------------------------------------------------
def _is_python_class(cls) -> bool:
    """A class written in Python (a heap type): its attributes can be replaced, so they are recorded."""
    return isinstance(cls, type) and bool(
        cls.__flags__ & (1 << 9)
    )  # Py_TPFLAGS_HEAPTYPE


def _functions_in(namespace: dict):
    for value in list(namespace.values()):
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property):
            yield from (
                f
                for f in (value.fget, value.fset, value.fdel)
                if isinstance(f, types.FunctionType)
            )
        elif isinstance(value, types.FunctionType):
            yield value


def _signals():
    for sig in signal.valid_signals():
        try:
            yield sig, signal.getsignal(sig)
        except (OSError, ValueError, RuntimeError):
            continue


class Protector:
    """The shell's state right after the setup cell, and the means to put it back."""

    def __init__(self, kernel):
        shell = kernel.shell
        self.kernel, self.shell = kernel, shell
        formatter = shell.display_formatter
        self.objects = [
            shell,
            kernel,
            kernel.session,
            shell.events,
            shell.input_transformer_manager,
            shell.displayhook,
            shell.display_pub,
            formatter,
            *formatter.formatters.values(),
            shell.InteractiveTB,
            shell.SyntaxTB,
            shell.compile,
            shell.history_manager,
            shell.magics_manager,
            sys.stdout,
            sys.stderr,
            sys.stdin,
        ]
        self.objects = [o for o in self.objects if o is not None]
        self.state = {id(o): self._attributes(o) for o in self.objects}
        classes = {
            cls
            for o in self.objects
            for cls in type(o).__mro__
            if _is_python_class(cls)
        }
        classes |= {GuardedKernel, Protector}
        self.classes = {cls: dict(vars(cls)) for cls in classes}
        self.code = {}
        for namespace in [*self.classes.values(), vars(sys.modules[__name__])]:
            for f in _functions_in(namespace):
                self.code[id(f)] = (f, f.__code__, f.__defaults__, f.__kwdefaults__)
        # Lists and dicts whose contents matter, wherever they are: restored in place.
        tm = shell.input_transformer_manager
        self.lists = [
            (lst, list(lst))
            for lst in (
                tm.cleanup_transforms,
                tm.line_transforms,
                tm.token_transformers,
                shell.input_transformers_post,
                shell.ast_transformers,
                gc.callbacks,
            )
        ]
        self.lists += [(lst, list(lst)) for lst in shell.events.callbacks.values()]
        self.dicts = [
            (d, dict(d))
            for d in (
                kernel.shell_handlers,
                kernel.control_handlers,
                shell.events.callbacks,
            )
        ]
        for f in formatter.formatters.values():
            self.dicts += [
                (d, dict(d))
                for d in (
                    getattr(f, "type_printers", None),
                    getattr(f, "deferred_printers", None),
                    getattr(f, "singleton_printers", None),
                )
                if isinstance(d, dict)
            ]
        self.builtins = dict(vars(builtins))
        self.sys_hooks = {
            name: getattr(sys, name)
            for name in (
                "excepthook",
                "displayhook",
                "breakpointhook",
                "unraisablehook",
                "stdout",
                "stderr",
                "stdin",
            )
        }
        self.trace, self.profile = sys.gettrace(), sys.getprofile()
        self.thread_hooks = (
            getattr(threading, "_trace_hook", None),
            getattr(threading, "_profile_hook", None),
        )
        self.signals = dict(_signals())
        self.threads = {t.ident for t in threading.enumerate()} | set(
            sys._current_frames()
        )
        self.guard = None  # the guard function, once the SNAPSHOT cell has defined it

    @staticmethod
    def _attributes(obj) -> dict:
        found = {}
        if hasattr(obj, "__dict__"):
            found["__dict__"] = dict(vars(obj))
        if isinstance(getattr(obj, "_trait_values", None), dict):
            found["_trait_values"] = dict(obj._trait_values)
        return found

    # -- before a grader cell ------------------------------------------------------------------
    def restore(self) -> None:
        # First what runs code behind our back, so that it cannot undo what follows.
        sys.settrace(self.trace)
        sys.setprofile(self.profile)
        threading._trace_hook, threading._profile_hook = self.thread_hooks
        for timer in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
            signal.setitimer(timer, 0)
        for sig, handler in self.signals.items():
            try:
                if signal.getsignal(sig) is not handler:
                    signal.signal(sig, handler)
            except (OSError, ValueError, RuntimeError, TypeError):
                pass
        for lst, items in self.lists:
            if lst != items:
                lst[:] = items
        for cls, saved in self.classes.items():
            current = vars(cls)
            for key in [k for k in current if k not in saved]:
                try:
                    delattr(cls, key)
                except (AttributeError, TypeError):
                    pass
            for key, value in saved.items():
                if current.get(key, _MISSING) is not value:
                    try:
                        setattr(cls, key, value)
                    except (AttributeError, TypeError):
                        pass
        for f, code, defaults, kwdefaults in self.code.values():
            if f.__code__ is not code:
                f.__code__ = code
            if f.__defaults__ is not defaults:
                f.__defaults__ = defaults
            if f.__kwdefaults__ is not kwdefaults:
                f.__kwdefaults__ = kwdefaults
        for obj in self.objects:
            saved = self.state[id(obj)]
            for where in ("__dict__", "_trait_values"):
                if where in saved:
                    self._restore_callables(
                        vars(obj) if where == "__dict__" else obj._trait_values,
                        saved[where],
                    )
        for d, items in self.dicts:
            if d != items or any(d[k] is not v for k, v in items.items()):
                for key in [k for k in d if k not in items]:
                    del d[key]
                d.update(items)
        current = vars(builtins)
        for (
            key,
            value,
        ) in (
            self.builtins.items()
        ):  # names added to builtins stay: no test looks them up
            if current.get(key, _MISSING) is not value:
                current[key] = value
        for name, value in self.sys_hooks.items():
            if getattr(sys, name) is not value:
                setattr(sys, name, value)
        if self.guard is not None:
            self.shell.user_ns[CHECK_NAME] = self.guard

    @staticmethod
    def _restore_callables(current: dict, saved: dict) -> None:
        """Put back every replaced method, hook or helper object; remove added ones; leave plain data alone."""
        for key in [k for k, v in current.items() if k not in saved and _behaviour(v)]:
            del current[key]
        for key, value in saved.items():
            now = current.get(key, _MISSING)
            if now is value:
                continue
            if (
                _behaviour(value)
                or _behaviour(now)
                or isinstance(value, (list, dict, tuple))
                and key in _CONTAINERS
            ):
                current[key] = value

    def foreign_threads(self) -> list:
        """Threads started after the setup cell that run the submission's code (a frame of theirs comes from
        a cell, ``exec`` or a file outside the installed packages); threads of the libraries are left alone."""
        alive = {t.ident: t for t in threading.enumerate()}
        found = []
        for ident, frame in sys._current_frames().items():
            if ident in self.threads:
                continue
            while frame is not None and _trusted(frame.f_code.co_filename):
                frame = frame.f_back
            if frame is not None:
                found.append(alive[ident].name if ident in alive else f"thread {ident}")
        return found

    def wait_for_threads(self) -> list:
        """The submission's threads still alive after a short grace period (their names)."""
        import time

        deadline = time.monotonic() + THREAD_GRACE_S
        while True:
            left = self.foreign_threads()
            if not left or time.monotonic() > deadline:
                return left
            for t in threading.enumerate():
                if t.name in left:
                    t.join(0.05)
            time.sleep(0.01)

    # -- after a grader cell --------------------------------------------------------------------
    def forget(self) -> None:
        """Remove every trace of grader cells' code from what student code can read later."""
        shell, hm = self.shell, self.shell.history_manager
        for lst in (hm.input_hist_parsed, hm.input_hist_raw):
            for i, source in enumerate(lst):
                if role_of(source):
                    lst[i] = ""
        for name in ("_i", "_ii", "_iii", "_i00"):
            if role_of(getattr(hm, name, "")):
                setattr(hm, name, "")
        ns = shell.user_ns
        for key in [
            k
            for k in ns
            if k.startswith("_i") and isinstance(ns.get(k), str) and role_of(ns[k])
        ]:
            ns[key] = ""
        for name in [
            n
            for n, entry in list(linecache.cache.items())
            if len(entry) > 2 and entry[2] and role_of(entry[2][0])
        ]:
            linecache.cache.pop(name, None)
            getattr(shell.compile, "_filename_map", {}).pop(name, None)
        for name in ("last_type", "last_value", "last_traceback", "last_exc"):
            if hasattr(sys, name):
                delattr(sys, name)
        shell.last_execution_result = None

    def tampered(self) -> list:
        """What the guard would have to restore now (changed during the test that just ran)."""
        check = getattr(self.guard, "changed", None)
        found = list(check()) if callable(check) else []
        if sys.gettrace() is not self.trace:
            found.append("sys.settrace")
        if sys.getprofile() is not self.profile:
            found.append("sys.setprofile")
        return found


_MISSING = object()
# Code installed with Python and the course's own packages; a cell, ``exec`` or a file the submission wrote is not.
_TRUSTED_ROOTS = tuple(
    sorted(
        {
            os.path.join(os.path.realpath(p), "")
            for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)
        }
        | {
            os.path.join(
                os.path.dirname(os.path.dirname(os.path.realpath(__file__))), pkg, ""
            )
            for pkg in ("grader", "dlcourse")
        }
    )
)


def _trusted(filename: str) -> bool:
    return filename.startswith("<frozen ") or os.path.realpath(filename).startswith(
        _TRUSTED_ROOTS
    )


def _behaviour(value) -> bool:
    """Is this attribute code (a function, a method, a hook object), rather than data?"""
    return (
        callable(value)
        and not issubclass(type(value), weakref.ReferenceType)
        and value is not _MISSING
    )


_CONTAINERS = {
    "custom_exceptions",
    "input_transformers_post",
    "ast_transformers",
    "shell_handlers",
    "control_handlers",
    "callbacks",
    "cleanup_transforms",
    "line_transforms",
    "token_transformers",
}


def _audit(event, args):
    if event == "sys.addaudithook":
        raise RuntimeError("the grading kernel accepts no further audit hooks")
    if event == "object.__setattr__" and args and id(args[0]) in _PROTECTED:
        raise RuntimeError("the grading kernel's own code cannot be changed")


_PROTECTED = set()


class GuardedKernel(IPythonKernel):
    """ipykernel's kernel, restoring the shell before each cell the grader owns (see the module's text)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        _PROTECTED.update(
            id(o)
            for o in (
                GuardedKernel,
                Protector,
                *_functions_in(vars(GuardedKernel)),
                *_functions_in(vars(Protector)),
                *_functions_in(globals()),
            )
        )
        sys.addaudithook(_audit)
        protection = {"protector": None, "role": "", "refusal": ""}

        async def shell_main(subshell_id, msg):
            role = _role_of_message(self, msg)
            protector = protection["protector"]
            protection["role"], protection["refusal"] = role, ""
            if role and protector is not None:
                protector.restore()
                if role == "test":
                    left = protector.wait_for_threads()
                    if left:
                        protection["refusal"] = (
                            f"the tests did not run: a thread the submission started is still "
                            f"running ({', '.join(sorted(left))[:200]}); end every thread "
                            "before the tests"
                        )
            try:
                await _BASE_SHELL_MAIN(self, subshell_id, msg)
            finally:
                if role == "setup" and protector is None:
                    protection["protector"] = Protector(self)
                elif role and protector is not None:
                    if role == "snapshot" and protector.guard is None:
                        protector.guard = self.shell.user_ns.get(CHECK_NAME)
                    protector.forget()
                protection["role"] = ""

        async def do_execute(
            code,
            silent,
            store_history=True,
            user_expressions=None,
            allow_stdin=False,
            **kw,
        ):
            role = protection["role"]

            def run(code):
                return _BASE_DO_EXECUTE(
                    self,
                    code,
                    silent,
                    store_history,
                    user_expressions,
                    allow_stdin,
                    **kw,
                )

            if not role:
                return await run(code)
            if protection["refusal"]:
                code = f"{MARKER}{role}\nraise RuntimeError({protection['refusal']!r})"
            shell = self.shell
            # Synchronously: the event loop (and any callback the submission scheduled on it) does not run first.
            vars(shell)["should_run_async"] = lambda *a, **k: False
            try:
                reply = await run(code)
            finally:
                vars(shell).pop("should_run_async", None)
            protector = protection["protector"]
            if role == "test" and protector is not None and reply.get("status") == "ok":
                changed = protector.tampered()
                if changed:
                    reply = self._fail_cell(
                        f"the submission changed {', '.join(changed[:5])} while the tests ran"
                    )
            return reply

        # Instance attributes, looked up before the class's: the closures above are what ipykernel calls.
        self.shell_main, self.do_execute = shell_main, do_execute

    def _fail_cell(self, message: str) -> dict:
        content = {
            "ename": "AssertionError",
            "evalue": message,
            "traceback": [f"AssertionError: {message}"],
        }
        self.session.send(
            self.iopub_socket,
            "error",
            content,
            parent=self.get_parent("shell"),
            ident=self._topic("error"),
        )
        return {"status": "error", "execution_count": self.execution_count, **content}


def _role_of_message(kernel, msg) -> str:
    """The role of an execute request's code. Only unpacked here: ``Session.deserialize`` would record the
    signature, and the real dispatch would then reject the message as a replay."""
    try:
        _, frames = kernel.session.feed_identities(msg, copy=False)
        header = kernel.session.unpack(_bytes(frames[1]))
        if header.get("msg_type") != "execute_request":
            return ""
        return role_of(kernel.session.unpack(_bytes(frames[4])).get("code"))
    except Exception:
        return ""


def _bytes(frame) -> bytes:
    return frame.bytes if hasattr(frame, "bytes") else bytes(frame)
