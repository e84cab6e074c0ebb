"""Chinese names for the synthetic demo city: places, grids and (synthetic) people.

Town and sub-district names of Liling are public place names (plus a couple of plausible
ones to reach 24). Every community, village and person name is generated from syllable
lists and describes no real place or person. Phone numbers from `work_phone` are synthetic
too: they sit in one fixed block of the 170 virtual-operator segment and must never be
dialled or texted.
"""

from __future__ import annotations

import numpy as np

CITY_NAME_LILING = "醴陵市"
PROVINCE_NAME = "湖南省"

#: Sub-districts (街道) of Liling; the first lies at the city centre.
LILING_SUBDISTRICTS: tuple[str, ...] = ("来龙门街道", "阳三石街道", "翻身街道", "仙岳山街道")
#: Towns (镇) and one township (乡) of Liling; 20 names.
LILING_TOWNS: tuple[str, ...] = (
    "孙家湾镇", "浦口镇", "东富镇", "王坊镇", "沈潭镇", "船湾镇", "官庄镇",
    "明月镇", "大障镇", "石亭镇", "板杉镇", "泗汾镇", "均楚镇", "嘉树镇",
    "富里镇", "白兔潭镇", "枧头洲镇", "茶山镇", "黄獭嘴镇", "姚家坝乡",
)  # fmt: skip
LILING_TOWN_NAMES: tuple[str, ...] = LILING_SUBDISTRICTS + LILING_TOWNS
CENTRAL_SUBDISTRICT = "来龙门街道"
CENTRAL_COMMUNITY = "胜利社区"

SUBDISTRICT_SUFFIX = "街道"
TOWN_SUFFIX = "镇"
TOWNSHIP_SUFFIX = "乡"
COMMUNITY_SUFFIX = "社区"
VILLAGE_SUFFIX = "村"

# Stems that sound like urban communities; used first, in shuffled order.
_URBAN_STEMS: tuple[str, ...] = (
    "建设", "解放", "人民", "新华", "南门", "北街", "西山", "东正", "滨江", "文化", "育才", "光明",
    "和平", "团结", "民主", "幸福", "朝阳", "向阳", "红旗", "工农", "前进", "东风", "瓷城", "陶瓷",
    "渌江", "状元", "姜湾", "三角", "西正", "彩虹", "长庆", "花园", "春风", "同心", "阳光", "南桥",
    "北门", "青云", "书院", "车站", "公园", "湖滨", "金鱼", "西环", "东堡", "新阳", "云岩", "渌湘",
    "锦绣", "华丰", "永青", "大塘", "河堤", "枫林", "福林", "广场", "安居", "富康",
)  # fmt: skip

# Two-character stems: FIRST × SECOND; three-character: FIRST × MIDDLE × SECOND.
_FIRST = (
    "东西南北新长大小金石龙凤桃杨柳黄白青红花高马牛松竹梅李周汤枫荷莲桂兰仙福寿"
    "安和平光明永太丰富双三五八九百千万古神星月云水泉岩沙田禾谷茶桑麻樟楠柏槐杉"
)
_SECOND = (
    "山冲塘桥湾坪岭田湖江溪源泉林园口港洲坝岗坡垅铺亭台门家庄里河潭井峰背岭圳垇"
    "塅湄陂嘴坳岐"
)
_MIDDLE = "子家头石竹水木山花田溪阳阴上下中前后新老"

_SURNAMES = (
    "李王张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
    "蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹易"
    "薛段雷侯龙史陶黎贺顾毛龚邵万钱严武戴莫孔向汤文左"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰萍红建文辉鹏飞斌宇浩凯健"
    "俊帆帅旭宁燕玲婷雪琳晶欣怡佳慧颖倩琴云莉丹荣海波林峰志国庆春梅新宏德胜利"
)

_MASK64 = (1 << 64) - 1


def _unique_chars(text: str) -> str:
    return "".join(dict.fromkeys(text))


_FIRST = _unique_chars(_FIRST)
_SECOND = _unique_chars(_SECOND)
_MIDDLE = _unique_chars(_MIDDLE)
_SURNAMES = _unique_chars(_SURNAMES)
_GIVEN = _unique_chars(_GIVEN)


def chinese_number(n: int) -> str:
    """Chinese numeral for 1..99 (一, 十, 十四, 二十, 九十九)."""
    if not 1 <= n <= 99:
        raise ValueError(f"chinese_number supports 1..99, got {n}")
    digits = "零一二三四五六七八九"
    tens, ones = divmod(n, 10)
    if tens == 0:
        return digits[ones]
    head = "十" if tens == 1 else digits[tens] + "十"
    return head + (digits[ones] if ones else "")


def zone_name(number: int) -> str:
    """Name of the n-th management zone (片区), e.g. 第一片区."""
    return f"第{chinese_number(number)}片区"


def basic_grid_name(village_name: str, serial: int) -> str:
    """Name of a basic grid, e.g. 胜利社区第3网格."""
    return f"{village_name}第{serial}网格"


class PlaceNamePool:
    """Deterministic source of place-name stems that are unique across one city.

    `urban_stem` hands out community-like stems first and falls back to generated ones;
    `rural_stem` hands out generated two-character stems, then three-character ones once
    the two-character space (about 5,000 stems) is used up.
    """

    def __init__(self, rng: np.random.Generator, reserved: tuple[str, ...] = ()) -> None:
        self._rng = rng
        self._used: set[str] = set(reserved)
        self._urban = [_URBAN_STEMS[i] for i in rng.permutation(len(_URBAN_STEMS))]
        n2 = len(_FIRST) * len(_SECOND)
        self._two = [int(i) for i in rng.permutation(n2)]
        self._urban_pos = 0
        self._two_pos = 0

    def _take(self, stem: str) -> bool:
        if stem in self._used:
            return False
        self._used.add(stem)
        return True

    def urban_stem(self) -> str:
        while self._urban_pos < len(self._urban):
            stem = self._urban[self._urban_pos]
            self._urban_pos += 1
            if self._take(stem):
                return stem
        return self.rural_stem()

    def rural_stem(self) -> str:
        while self._two_pos < len(self._two):
            first, second = divmod(self._two[self._two_pos], len(_SECOND))
            self._two_pos += 1
            stem = _FIRST[first] + _SECOND[second]
            if self._take(stem):
                return stem
        while True:  # 3-character space holds ~200,000 stems
            a, b, c = self._rng.integers((len(_FIRST), len(_MIDDLE), len(_SECOND)))
            stem = _FIRST[a] + _MIDDLE[b] + _SECOND[c]
            if self._take(stem):
                return stem


def _mix64(value: int) -> int:
    """splitmix64 finaliser: spreads consecutive indexes over 64 bits."""
    z = (value + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def person_name(source: int | np.random.Generator) -> str:
    """A synthetic Chinese person name: common surname + one or two given characters.

    With an int the name is a pure function of it (same index, same name); with a numpy
    Generator the name is drawn from it. The people are synthetic.
    """
    if isinstance(source, np.random.Generator):
        surname, g1, g2, two = (
            int(v) for v in source.integers((len(_SURNAMES), len(_GIVEN), len(_GIVEN), 3))
        )
    else:
        h = _mix64(int(source))
        h, surname = divmod(h, len(_SURNAMES))
        h, g1 = divmod(h, len(_GIVEN))
        h, g2 = divmod(h, len(_GIVEN))
        two = h % 3
    given = _GIVEN[g1] + (_GIVEN[g2] if two else "")
    return _SURNAMES[surname] + given


_PHONE_BASE = 7_310_000  # digits 4-11 of the first number: 170 0731 0000


def work_phone(index: int) -> str:
    """A clearly synthetic 11-digit work phone number for synthetic staff member `index`.

    Index 0–9999 gives "1700731" + the 4-digit index (17007310000 … 17007319999); larger
    indexes continue the block (17007320000 …). Not real numbers: never call or text them.
    """
    if index < 0 or _PHONE_BASE + index >= 10**8:
        raise ValueError(f"phone index out of range: {index}")
    return f"170{_PHONE_BASE + index:08d}"
