"""Hard: one meeting per table and slot, hosts at their own tables (rules 3 and 4).

Tables within one group are interchangeable, so the model counts instead of
placing: the meetings of two non-hosts in a slot (and a host's meeting locked at a
table with no host) are at most the number of pooled tables, and the meetings at
host ``h``'s tables are at most the number of tables ``h`` hosts. A meeting of two
hosts may sit at either's table; for those (rare) pairs a Boolean per side says
whose table it takes, which keeps the count exact. Concrete table ids are chosen
after solving (:mod:`solver.model.table_assignment`), which always succeeds under
these counts.
"""

from __future__ import annotations

from solver.model.variables import Variables


def add_table_capacity(v: Variables) -> None:
    """Per-slot table counts for the pooled group and for each host's tables."""
    prep = v.prep
    if not prep.has_tables:
        return
    model = v.model
    for slot in range(len(prep.slot_ids)):
        pooled_capacity = prep.pooled_capacity(slot)
        pooled = []
        host_load: dict[int, list] = {}
        for pair_index, var in v.in_slot(slot):
            prepared = prep.pairs[pair_index]
            hosts = prep.table_hosts(pair_index)
            a_hosts, b_hosts = prepared.a in hosts, prepared.b in hosts
            if a_hosts and b_hosts:
                at_a = model.new_bool_var(f"tab_p{pair_index}_s{slot}_a")
                at_b = model.new_bool_var(f"tab_p{pair_index}_s{slot}_b")
                model.add(at_a + at_b == var)
                v.at_table_of[pair_index, slot, prepared.a] = at_a
                v.at_table_of[pair_index, slot, prepared.b] = at_b
                host_load.setdefault(prepared.a, []).append(at_a)
                host_load.setdefault(prepared.b, []).append(at_b)
            elif a_hosts:
                host_load.setdefault(prepared.a, []).append(var)
            elif b_hosts:
                host_load.setdefault(prepared.b, []).append(var)
            else:
                pooled.append(var)
        if len(pooled) > pooled_capacity:
            model.add(sum(pooled) <= pooled_capacity)
        for host in sorted(host_load):
            load = host_load[host]
            capacity = len(prep.hosted_tables[host])
            if len(load) > capacity:
                if capacity == 1:
                    model.add_at_most_one(load)
                else:
                    model.add(sum(load) <= capacity)
