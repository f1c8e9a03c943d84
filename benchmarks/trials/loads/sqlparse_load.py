"""Load for the sqlparse trial: split, parse and reindent generated SQL statements."""

import random

import sqlparse

ROUNDS = 5


def statements() -> str:
    rng = random.Random(5)
    tables = ["orders", "customers", "items", "payments", "shipments"]
    columns = ["id", "name", "amount", "created_at", "status", "total"]
    out = []
    for index in range(120):
        table = rng.choice(tables)
        cols = ", ".join(rng.sample(columns, 3))
        out.append(
            f"select {cols}, count(*) as n from {table} t join {rng.choice(tables)} u "
            f"on t.id = u.id where t.amount > {rng.randint(0, 999)} and u.status in "
            f"('a', 'b', 'c') group by {cols} order by n desc limit {index + 1};"
        )
        out.append(
            f"insert into {table} (id, name, amount) values ({index}, 'name {index}', "
            f"{rng.random():.3f});"
        )
    return "\n".join(out)


def main() -> None:
    text = statements()
    for _ in range(ROUNDS):
        sqlparse.format(text, reindent=True, keyword_case="upper")


if __name__ == "__main__":
    main()
