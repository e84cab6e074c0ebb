"""The words of the generated cases (casegen.py): titles, descriptions, reasons, feedback.

Titles always begin with the community's or village's name, so no generated title can
equal a title a test or a story uses on its own ("胜利路井盖缺失" and the like).
"""

from __future__ import annotations

import random

URBAN_SPOTS = ("小区门口", "菜市场旁", "主干道旁", "背街小巷", "公交站旁", "学校附近",
               "广场边", "沿街商铺前", "老旧小区内", "十字路口")
RURAL_SPOTS = ("村道旁", "组上", "村部附近", "河堤边", "集镇街口", "山塘边", "学校路口")

#: small class → title templates: {v} the community/village, {s} a spot in it
PROBLEMS: dict[str, tuple[str, ...]] = {
    "0101": ("{v}{s}生活垃圾堆积未清运", "{v}{s}暴露垃圾"),
    "0102": ("{v}{s}乱堆建筑材料", "{v}{s}杂物堆放占道"),
    "0103": ("{v}{s}夜间噪声扰民", "{v}{s}商铺音响噪声扰民"),
    "0201": ("{v}{s}违规设置户外广告牌", "{v}{s}乱贴小广告"),
    "0301": ("{v}{s}夜间施工噪音扰民", "{v}{s}工地扬尘"),
    "0401": ("{v}{s}路面塌陷", "{v}{s}路面出现坑洞下沉"),
    "0501": ("{v}{s}占道经营", "{v}{s}流动摊贩占道"),
    "0502": ("{v}{s}车辆乱停占用人行道", "{v}{s}消防通道停车"),
    "0601": ("{v}{s}窨井盖缺失", "{v}{s}井盖破损"),
    "0602": ("{v}{s}路灯不亮", "{v}{s}路灯损坏"),
    "0603": ("{v}{s}下水道堵塞污水外溢", "{v}{s}雨水井堵塞路面积水"),
    "0701": ("{v}{s}道路破损", "{v}{s}路面开裂积水"),
    "0801": ("{v}{s}树木倒伏", "{v}{s}树枝折断压住线路"),
    "0901": ("{v}{s}违法搭建", "{v}{s}私自加建"),
    "1001": ("{v}{s}停水", "{v}{s}水压不足"),
    "1002": ("{v}{s}停电", "{v}{s}线路故障停电"),
    "1003": ("{v}{s}闻到燃气味", "{v}{s}燃气管道疑似泄漏"),
    "1101": ("{v}{s}消防通道堵塞", "{v}{s}电动车楼道充电"),
    "1201": ("{v}出租屋人员频繁出入", "{v}{s}发现可疑人员"),
    "1202": ("{v}疑似传销聚集", "{v}出租屋疑似传销窝点"),
    "1301": ("{v}务工人员讨要工资", "{v}企业拖欠工资"),
    "1302": ("{v}征地补偿分歧", "{v}拆迁安置诉求"),
    "1303": ("{v}业主与物业费用纠纷", "{v}小区物业服务纠纷"),
    "1304": ("{v}{s}排污引发纠纷", "{v}养殖场异味纠纷"),
    "1305": ("{v}家庭矛盾调解", "{v}赡养纠纷"),
    "1306": ("{v}邻里因噪音发生纠纷", "{v}邻里因排水沟起争执"),
    "1307": ("{v}山林界址纠纷", "{v}承包地边界纠纷"),
    "1308": ("{v}居民与诊所医疗纠纷", "{v}医疗费用纠纷"),
    "1309": ("{v}{s}交通事故赔偿纠纷", "{v}{s}车辆刮擦纠纷"),
    "1310": ("{v}商品质量消费纠纷", "{v}预付卡退费纠纷"),
    "1311": ("{v}财物损坏赔偿纠纷", "{v}施工损坏房屋赔偿"),
    "1312": ("{v}村务公开诉求", "{v}集体资金使用质疑"),
    "1313": ("{v}其他矛盾纠纷", "{v}居民之间经济纠纷"),
    "1401": ("{v}居民建议增设健身设施", "{v}居民建议加装电梯"),
    "1501": ("{v}居民咨询养老保险政策", "{v}居民咨询低保申请条件"),
    "1601": ("{v}独居老人求助", "{v}困难家庭求助"),
}

CHANNEL_LEAD = {"grid_worker": "网格员巡查发现", "resident": "居民反映",
                "station": "工作站接待登记", "external": "12345热线转办", "walk_in": "群众来访反映"}

#: big class → what the department fed back (处置反馈)
FEEDBACK: dict[str, tuple[str, ...]] = {
    "01": ("已组织清运，现场已清理干净",), "02": ("已拆除违规广告",),
    "03": ("已责令施工方整改，限定作业时间",), "04": ("已设置围挡并完成修补",),
    "05": ("已劝离并规范经营",), "06": ("已维修更换，设施恢复正常",),
    "07": ("已完成路面修补",), "08": ("已清理倒伏树木，恢复通行",),
    "09": ("已下达整改通知，违建已拆除",), "10": ("已抢修完毕，恢复供应",),
    "11": ("已督促整改，隐患已消除",), "12": ("已核查处置",),
    "13": ("经调解双方达成协议", "已组织调解，矛盾化解"),
    "14": ("已答复并转相关单位研究",), "15": ("已电话解答政策",),
    "16": ("已上门走访，落实救助措施",),
}

REJECT_REASONS = ("不属于受理范围", "信息不全，无法核实", "经核实情况不属实")
CANCEL_REASONS = ("重复上报", "群众已自行解决", "上报人撤回诉求")
ESCALATE_REASONS = ("本站无法协调", "涉及多个部门，需分中心协调", "跨社区问题")
SUSPEND_REASONS = ("等待配件到货", "雨天无法施工", "等待产权单位确认")
REPLY_DUE_REASONS = ("需列入年度计划，短期内无法解决", "涉及资金审批，需较长时间")
REWORK_REASONS = ("现场核查未整改到位", "群众反映问题仍未解决")
CLOSEOUT_REASONS = ("已处置完毕，现场核实", "问题已解决，群众认可", "处置到位，予以销号")


def title(rng: random.Random, code: str, name: str, village: str, kind: str) -> str:
    template = rng.choice(PROBLEMS.get(code, ("{v}{s}" + name,)))
    spot = rng.choice(URBAN_SPOTS if kind == "urban" else RURAL_SPOTS)
    return template.format(v=village, s=spot)[:100]


def description(channel: str, title: str) -> str:
    return f"{CHANNEL_LEAD.get(channel, '上报')}：{title}，请及时处理。"


def feedback(rng: random.Random, category: str) -> str:
    return rng.choice(FEEDBACK.get(category[:2], ("已处理完毕",)))


def written_reply(rng: random.Random) -> str:
    days = rng.choice((7, 15, 30))
    return f"您反映的问题已列入处置计划，预计{days}日内解决，期间如有情况请联系网格员。"


def followup(score: int) -> str:
    if score >= 4:
        return "电话回访，群众表示满意"
    if score == 3:
        return "电话回访，群众基本满意"
    return "电话回访，群众不满意，认为处置不够彻底"
