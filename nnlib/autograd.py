"""A tiny scalar autograd engine: the chain rule, one number at a time.

A :class:`Value` holds one number, ``data``. Every operation on Values makes a
new Value that remembers the Values it was made from (``children``) and, right
beside them, the *local* derivative of its result with respect to each of them
(``local_grads``):

    c = a * b        c.children = (a, b)     c.local_grads = (b.data, a.data)

``c.backward()`` then walks the graph from ``c`` back to its inputs, every node
after all the nodes that use it (reverse topological order), and applies the
chain rule at each one:

    child.grad += local_grad * node.grad

That line is all of backpropagation. Afterwards ``v.grad`` holds dc/dv for every
Value ``v`` that ``c`` was computed from. nnlib's layers do the same with whole
matrices at once (chapter 5 derives them); this engine is small enough to read
in one sitting, and exact enough to check them against.

    x, w, b = Value(1.5, label="x"), Value(0.8, label="w"), Value(-0.5, label="b")
    y = (w * x + b).tanh()
    y.backward()
    w.grad           # dy/dw = (1 - y^2) * x
"""
from __future__ import annotations

import math
import numbers

__all__ = ["Value", "topological_order"]


def _as_value(other, op, reflected=False):
    """other as a Value; a TypeError naming its type if it is not a number or a Value."""
    if isinstance(other, Value):
        return other
    if isinstance(other, numbers.Real):
        return Value(other)
    left, right = (type(other).__name__, "Value") if reflected else ("Value", type(other).__name__)
    raise TypeError(
        f"unsupported operand for {op}: {left} and {right} ({other!r:.40}); "
        f"a Value combines only with numbers (int, float) and other Values"
    )


class Value:
    """One number in a computation graph, and the gradient backward() gives it.

    data: the number (a float).
    grad: after ``result.backward()``, d result / d this Value (0.0 before).
    children: the Values this one was computed from; local_grads: d this / d child, one per child.
    op: the operation that made it ("+", "*", "tanh", ...; "" for an input).
    label: an optional name, shown in drawings (``nnlib.plot.draw_graph``).
    """

    def __init__(self, data, children=(), local_grads=(), op="", label=""):
        if not isinstance(data, numbers.Real):
            hint = "; for arrays use numpy and nnlib.layers" if hasattr(data, "shape") else ""
            raise TypeError(f"Value holds one real number, got {type(data).__name__}{hint}")
        self.data = float(data)
        self.grad = 0.0
        self.children = tuple(children)
        self.local_grads = tuple(local_grads)
        self.op = op
        self.label = label

    # --- arithmetic: each result with its local derivatives -------------------
    def __add__(self, other):
        other = _as_value(other, "+")
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __sub__(self, other):
        other = _as_value(other, "-")
        return Value(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __mul__(self, other):
        other = _as_value(other, "*")
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")   # d(ab)/da = b

    def __truediv__(self, other):
        other = _as_value(other, "/")
        if other.data == 0:
            raise ZeroDivisionError(f"Value division by zero: {self.data:g} / 0")
        a, b = self.data, other.data
        return Value(a / b, (self, other), (1.0 / b, -a / b ** 2), "/")                  # d(a/b)/db = -a/b^2

    def __pow__(self, n):
        if isinstance(n, Value) or not isinstance(n, numbers.Real):
            raise TypeError(
                f"unsupported operand for **: Value and {type(n).__name__}; the exponent must be "
                f"a plain number (int or float), e.g. x ** 2"
            )
        x = self.data
        if x < 0 and n != int(n):
            raise ValueError(f"Value({x:g}) ** {n:g}: a negative number has no real fractional power")
        if x == 0 and n < 1 and n != 0:
            raise ZeroDivisionError(f"Value(0) ** {n:g}: the derivative n x^(n-1) is infinite at 0")
        local = n * x ** (n - 1) if n != 0 else 0.0                                         # d(x^n)/dx = n x^(n-1)
        return Value(x ** n, (self,), (local,), f"**{n:g}")

    def __neg__(self):
        return Value(-self.data, (self,), (-1.0,), "neg")

    # number + Value, number * Value, ...: the same operations, operands swapped
    def __radd__(self, other):
        return _as_value(other, "+", reflected=True) + self

    def __rsub__(self, other):
        return _as_value(other, "-", reflected=True) - self

    def __rmul__(self, other):
        return _as_value(other, "*", reflected=True) * self

    def __rtruediv__(self, other):
        return _as_value(other, "/", reflected=True) / self

    def __rpow__(self, other):
        raise TypeError(
            f"unsupported operand for **: {type(other).__name__} and Value; only a Value can be raised "
            f"to a number (for b ** x write (x * math.log(b)).exp())"
        )

    # --- functions ------------------------------------------------------------
    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")               # tanh' = 1 - tanh^2

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,), "exp")                          # exp' = exp

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log of Value({self.data:g}): the natural log needs a positive number")
        return Value(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def relu(self):
        on = self.data > 0
        return Value(self.data if on else 0.0, (self,), (1.0 if on else 0.0,), "relu")   # slope 1 or 0

    def sigmoid(self):
        e = math.exp(-abs(self.data))                                  # never overflows
        s = 1.0 / (1.0 + e) if self.data >= 0 else e / (1.0 + e)
        return Value(s, (self,), (s * (1.0 - s),), "sigmoid")          # sigmoid' = s (1 - s)

    # --- backpropagation ------------------------------------------------------
    def backward(self):
        """Set .grad of this Value and of every Value it was computed from to d self / d that Value.

        All those grads are reset to 0 first, so calling backward twice gives
        the same numbers. To add up the gradients of several results, add the
        results (L = L1 + L2) and call backward once.
        """
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0                                        # d self / d self
        for node in reversed(order):                           # each node after every node that uses it
            for child, local in zip(node.children, node.local_grads):
                child.grad += local * node.grad                # chain rule, summed over all paths

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{label})"


def topological_order(root):
    """Every Value that root depends on, root last; each one after all of its children.

    Iterative depth-first search, so graphs of any depth work (no recursion limit).
    """
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)                         # all its children are already in order
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))                 # come back to it after its children,
            stack.extend((child, False) for child in reversed(node.children)   # first child first
                         if id(child) not in seen)
    return order
