"""The snake-v0 reference planner: the shortest safe path to the food, else follow the tail.

It reads the true state of `gym_snake.SnakeEnv` (`env.unwrapped`: body, heading, food, board size,
walls) and decides one step at a time, with a standard strong heuristic:

1. Breadth-first search from the head to the food. Body segments are obstacles only while they are
   still there: the segment k steps from the tail leaves after k + 1 moves, so a cell it holds can
   be entered from move k + 1 on (the tail itself at once, as the rules allow).
2. Follow that path in imagination, eating at its end, and accept it only if from there the head can
   still reach the tail (the same search): a snake that can reach its tail can always keep moving.
3. Otherwise, among the moves after which the head can still reach the tail, take the one that
   keeps the tail farthest away (it wastes time safely while the food moves out of the way); when
   none can, any move that does not die at once; when all die, straight on.

It never reverses (the env would ignore it) and never moves into a wall or into its body while a
safe move exists. Relative action mode is supported by turning the chosen heading into a turn.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

DELTAS = ((-1, 0), (0, 1), (1, 0), (0, -1))  # gym_snake's headings: up, right, down, left
RELATIVE_TURNS = {3: 0, 0: 1, 1: 2}  # heading change (clockwise quarter turns) -> TURN_LEFT, STRAIGHT, TURN_RIGHT


class Board:
    """Neighbour lookups of a `height` x `width` board, walls or torus; cells are row * width + col."""

    def __init__(self, height: int, width: int, wrap: bool) -> None:
        self.height, self.width, self.wrap = height, width, wrap
        self.next = [[self._step(cell, d) for d in range(4)] for cell in range(height * width)]

    def _step(self, cell: int, direction: int) -> int | None:
        row, col = divmod(cell, self.width)
        row, col = row + DELTAS[direction][0], col + DELTAS[direction][1]
        if self.wrap:
            return (row % self.height) * self.width + col % self.width
        if 0 <= row < self.height and 0 <= col < self.width:
            return row * self.width + col
        return None

    def path(self, body: Sequence[int], target: int) -> list[int] | None:
        """The headings of a shortest path from the head (`body[-1]`; body listed tail first) to
        `target` through cells free when entered (segment k frees after k + 1 moves), or None."""
        head = body[-1]
        frees_at = {cell: k + 1 for k, cell in enumerate(body[:-1])}
        parent: dict[int, tuple[int, int]] = {head: (-1, -1)}
        queue = deque([(head, 0)])
        while queue:
            cell, distance = queue.popleft()
            for direction, nxt in enumerate(self.next[cell]):
                if nxt is None or nxt in parent or frees_at.get(nxt, 0) > distance + 1:
                    continue  # off the board, seen, or body that is still there at move distance + 1
                parent[nxt] = (cell, direction)
                if nxt == target:
                    return _unwind(parent, nxt)
                queue.append((nxt, distance + 1))
        return None

    def distance(self, body: Sequence[int], target: int) -> int | None:
        path = self.path(body, target)
        return None if path is None else len(path)


def _unwind(parent: dict[int, tuple[int, int]], cell: int) -> list[int]:
    directions = []
    while parent[cell][0] != -1:
        cell, direction = parent[cell]
        directions.append(direction)
    return directions[::-1]


def follow(board: Board, body: list[int], directions: Sequence[int], food: int | None) -> list[int]:
    """The body (tail first) after moving along `directions`, growing by one on the food."""
    body = list(body)
    for direction in directions:
        head = board.next[body[-1]][direction]
        assert head is not None  # the directions stay on the board
        body.append(head)
        if head == food:
            food = None  # a new food appears somewhere unknown; eat only this one
        else:
            body.pop(0)
    return body


def can_reach_tail(board: Board, body: list[int]) -> bool:
    return len(body) < 3 or board.path(body, body[0]) is not None


def dies(board: Board, body: list[int], direction: int) -> bool:
    target = board.next[body[-1]][direction]
    return target is None or (target in body and target != body[0])


def snake_heading(board: Board, body: list[int], heading: int, food: int | None) -> int:
    """The heading the planner takes next (see the module docstring)."""
    moves = [d for d in range(4) if d != (heading + 2) % 4]
    if food is not None:
        path = board.path(body, food)
        if path is not None and can_reach_tail(board, follow(board, body, path, food)):
            return path[0]
    safe = []
    for direction in moves:
        if dies(board, body, direction):
            continue
        after = follow(board, body, [direction], food)
        if can_reach_tail(board, after):
            distance = board.distance(after, after[0]) if len(after) >= 3 else 0
            safe.append((distance or 0, direction))
    if safe:
        return max(safe, key=lambda item: (item[0], -moves.index(item[1])))[1]
    alive = [d for d in moves if not dies(board, body, d)]
    return alive[0] if alive else heading


class SnakePlanner:
    """Chooses actions for a `SnakeEnv` (read through `env.unwrapped`)."""

    def __init__(self) -> None:
        self._boards: dict[tuple[int, int, bool], Board] = {}

    def __call__(self, env: Any) -> int:
        config = env.config
        key = (config.height, config.width, bool(config.wrap_walls))
        board = self._boards.get(key) or self._boards.setdefault(key, Board(*key))
        width = config.width
        body = [row * width + col for row, col in reversed(env.snake)]  # tail first
        food = env.food
        heading = snake_heading(board, body, env.heading, None if food is None else food[0] * width + food[1])
        if config.action_mode == "relative":
            return RELATIVE_TURNS[(heading - env.heading) % 4]
        return heading
