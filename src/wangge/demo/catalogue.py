"""The demo's service catalogue (掌上办事大厅): 664 items in the exchange format of
services.actions.catalogue, of which exactly 50 may be handled by a grid worker (代办).

SYNTHETIC. Item names follow the usual wording of a county-level city's government-service
list, but every code, time limit, window number and phone number is invented (phones from
the block 0731-2399xxxx, reserved for the demo); no real person's data is involved.

The items come from two sources (demo/catalogue_data.py): hand-written guides for the 50
proxy-eligible items and the ones residents ask for most (with the colloquial names people
say as aliases), and families (subject × action: 食品生产许可证 核发 / 变更 / 延续 / 注销)
for the long tail every real list has. Everything is deterministic: the same rows, codes and
order on every run, so tests and the relevance set can name item codes.
"""

from __future__ import annotations

from typing import Any

from wangge.demo.catalogue_data import (
    ACTION_ALIASES,
    AGENT_MATERIALS,
    CONDITIONAL_NOTES,
    DEPARTMENTS,
    FAMILIES,
    HAND_ITEMS,
    MATERIALS,
)

#: the size of the catalogue the source names ("664项民生事项")
CATALOGUE_SIZE = 664
#: the number of items grid workers may handle by proxy ("50项民生事项")
PROXY_ITEMS = 50

#: the 14 items issue 13 names verbatim → their codes (stable: tests and the demo's year
#: of applications look them up here)
NAMED_PROXY_ITEMS: dict[str, str] = {
    "老年人优待证（老年证）办理与年审": "MZ-0001",
    "高龄津贴申领": "MZ-0002",
    "残疾人证新办与换领": "CL-0001",
    "最低生活保障申请": "MZ-0003",
    "特困人员救助供养申请": "MZ-0004",
    "临时救助申请": "MZ-0005",
    "城乡居民基本医疗保险参保登记": "YB-0001",
    "城乡居民基本养老保险参保登记与待遇资格认证": "RS-0001",
    "生育登记": "WJ-0001",
    "独生子女父母奖励": "WJ-0002",
    "居住证办理": "GA-0001",
    "就业失业登记": "RS-0002",
    "医疗救助申请": "YB-0002",
    "退役军人优待证申领": "TY-0001",
}

PLACE = "礼陵市政务服务中心{windows}号窗口"
TOWN_PLACE = "各乡镇（街道）便民服务中心综合窗口"
VILLAGE_PLACE = "各村（社区）便民服务站"
HOURS = "工作日 上午9:00-12:00，下午13:30-17:30（法定节假日除外）"

STEPS: dict[str, list[str]] = {
    "license": ["申请：提交申请材料（可网上预审）", "受理：窗口审查材料，材料齐全的当场受理",
                "审查：对材料进行审查，必要时现场核查", "决定：作出准予或不予许可的决定",
                "送达：发放证照或决定书（可邮寄）"],
    "confirmation": ["申请：提交申请材料", "受理：窗口核对材料", "审核：部门审核确认",
                     "办结：出具确认文书或证件"],
    "benefit": ["申请：本人或委托人（可由网格员代办）提交申请", "受理：乡镇（街道）受理并入户核查",
                "公示：村（社区）公示7天", "审批：主管部门审核确认",
                "发放：按月或一次性发放至本人账户"],
    "public_service": ["申请：网上、窗口或网格员代办提交", "受理：窗口核对材料",
                       "办理：部门办理", "办结：结果告知或证件送达"],
    "other": ["申请：提交材料", "受理：窗口核对", "办理：部门办理", "办结：告知结果"],
}

LEGAL_BASIS = {
    "license": "《中华人民共和国行政许可法》及相关法律法规",
    "confirmation": "相关法律法规及省市有关规定",
    "benefit": "《社会救助暂行办法》等法规及省市有关规定",
    "public_service": "省市公共服务事项有关规定",
    "other": "相关法律法规",
}

FAMILY_MATERIALS = {
    "license": ["license", "form", "site", "commitment"],
    "confirmation": ["id_card", "form", "change_proof"],
    "benefit": ["id_card", "bank", "form"],
    "public_service": ["id_card", "form"],
    "other": ["id_card", "form"],
}
ACTION_MATERIALS = {"变更": ["old_cert", "change_proof"], "延续": ["old_cert"],
                    "注销": ["old_cert", "cancel_proof"], "补办": ["photo1"]}


def _phone(prefix: str, n: int) -> str:
    """A synthetic number of the demo's reserved block 0731-2399xxxx."""
    return f"0731-2399{(sum(map(ord, prefix)) * 7 + n) % 10000:04d}"


def _materials(keys: list[str], *, agent: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for raw in [*keys, *(f"?{k}" for k in AGENT_MATERIALS if agent)]:
        required = not raw.startswith("?")
        key = raw.lstrip("?")
        name, form, count = MATERIALS[key]
        out.append({"key": key, "name": name, "form": form, "count": count,
                    "required": required,
                    "condition": "" if required else CONDITIONAL_NOTES.get(key, "特定情形提供"),
                    "note": "原件核验后退还" if form == "original" else ""})
    return out


def _faq(name: str, row: dict[str, Any], own: list[str]) -> list[dict[str, str]]:
    faq = [dict(zip(("q", "a"), pair.split("|", 1), strict=True)) for pair in own]
    times = "无需到现场，全程网办" if row["in_person_times"] == 0 else "最多跑一次"
    faq.append({"q": f"{name}要跑几次？",
                "a": f"{times}；承诺{row['promised_days']}个工作日办结。"})
    if row["proxy_eligible"]:
        faq.append({"q": "行动不便可以请人代办吗？",
                    "a": "可以。扫描家门口的二维码或在办事指南中点“请网格员帮我办”，"
                         "网格员上门收件、代办并送证上门。"})
    return faq


def _row(code: str, dept: str, name: str, type_: str, level: str, events: list[str],
         aliases: list[str], materials: list[str], legal: int, promised: int, *,
         proxy: bool, prereview: bool, conditions: str, faq: list[str]) -> dict[str, Any]:
    windows = DEPARTMENTS[dept][1]
    place = {"city": PLACE.format(windows=windows), "town": TOWN_PLACE,
             "village": VILLAGE_PLACE}[level]
    row: dict[str, Any] = {
        "code": code, "name": name, "aliases": aliases, "type": type_, "department": dept,
        "level": level, "legal_basis": LEGAL_BASIS[type_], "conditions": conditions,
        "materials": _materials(materials, agent=proxy or type_ == "benefit"),
        "steps": STEPS[type_], "legal_days": legal, "promised_days": min(promised, legal),
        "fee": "不收费" if type_ != "license" or "证" not in name else "不收费（工本费免收）",
        "place": place, "hours": HOURS, "phone": _phone(DEPARTMENTS[dept][0], len(name)),
        "in_person_times": 0 if (prereview and type_ in ("benefit", "public_service")) else 1,
        "online_prereview": prereview, "prereview_days": 1 if proxy else 2,
        "proxy_eligible": proxy, "events": events,
    }
    row["faq"] = _faq(name, row, faq)
    return row


def _generated(prefix_seq: dict[str, int], count: int) -> list[dict[str, Any]]:
    """The long tail: subject × action, taken round-robin over the departments so every
    department keeps a share however many are needed."""
    queues: list[list[tuple[str, str, str, list[str], str, str]]] = []
    for dept, families in FAMILIES.items():
        q = []
        for type_, events, subject, actions, alias in families:
            for action in actions:
                q.append((dept, type_, subject, events, alias, action))
        queues.append(q)
    picked: list[tuple[str, str, str, list[str], str, str]] = []
    depth = 0
    while len(picked) < count:
        layer = [q[depth] for q in queues if depth < len(q)]
        if not layer:
            raise ValueError(f"catalogue families give {len(picked)} items, need {count}")
        picked.extend(layer[:count - len(picked)])
        depth += 1
    rows = []
    for n, (dept, type_, subject, events, alias, action) in enumerate(picked):
        prefix = DEPARTMENTS[dept][0]
        prefix_seq[prefix] += 1
        code = f"{prefix}-{prefix_seq[prefix]:04d}"
        verb = next((v for k, v in ACTION_ALIASES.items() if action.startswith(k)), action)
        aliases = [alias] if action in ("核发", "登记", "申领", "申请") else [f"{alias}{verb}"]
        materials = FAMILY_MATERIALS[type_] + next(
            (m for k, m in ACTION_MATERIALS.items() if action.startswith(k)), [])
        legal = {"license": 20, "confirmation": 20, "benefit": 30}.get(type_, 15)
        promised = [1, 3, 5, 7, 10][n % 5]
        rows.append(_row(code, dept, f"{subject}{action}", type_,
                         "city" if type_ in ("license", "other") else "town", events,
                         aliases, list(dict.fromkeys(materials)), legal, promised,
                         proxy=False, prereview=(n % 2 == 0), conditions="符合法定条件的申请人",
                         faq=[]))
    return rows


def catalogue_rows() -> list[dict[str, Any]]:
    """The 664 rows, in code order within each department's hand-written items first."""
    prefix_seq = {prefix: 0 for prefix, _ in DEPARTMENTS.values()}
    rows: list[dict[str, Any]] = []
    for (dept, name, type_, level, events, aliases, materials, legal, promised, proxy,
         prereview, conditions, faq) in HAND_ITEMS:
        prefix = DEPARTMENTS[dept][0]
        prefix_seq[prefix] += 1
        rows.append(_row(f"{prefix}-{prefix_seq[prefix]:04d}", dept, name, type_, level,
                         events, aliases, materials, legal, promised, proxy=proxy,
                         prereview=prereview, conditions=conditions, faq=faq))
    rows += _generated(prefix_seq, CATALOGUE_SIZE - len(rows))
    return rows


def load_demo_catalogue() -> int:
    """Import the 664 items (created or updated by code; an unchanged item makes no new
    version) and the seeded synonym groups; returns the number of items in the catalogue."""
    from wangge.services.actions.catalogue import do_import_catalogue
    from wangge.services.actions.seeds import do_seed_services

    do_seed_services()
    rows = catalogue_rows()
    do_import_catalogue(rows, actor=None)
    return len(rows)
