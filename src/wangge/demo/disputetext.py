"""Words of the disputes demo (矛盾纠纷排查调解): what each of the 13 kinds is usually about,
how often each kind comes up, the risk it usually carries, the amounts at stake, and the
sessions' and agreements' plain sentences. Synthetic and generic: no real person, company
or event."""

from __future__ import annotations

#: kind code → (weight among disputes found, subjects). The proportions follow what county
#: mediation bulletins report: neighbours, marriage and family, and labour first; domestic
#: violence rare (and sensitive)
KINDS: dict[str, tuple[float, tuple[str, ...]]] = {
    "neighbour": (26.0, ("楼上漏水致楼下天花板受损", "相邻房屋滴水、排水引发争执",
                         "宅基地边界围墙修建争议", "饲养犬只扰邻", "公共楼道堆放杂物引发争执",
                         "装修噪音影响邻居休息", "共用排水沟堵塞责任争议")),
    "marriage_family": (22.0, ("赡养老人费用分担纠纷", "离婚后子女抚养费给付纠纷",
                               "家庭财产分割纠纷", "婆媳矛盾引发家庭争吵",
                               "兄弟之间老屋继承纠纷")),
    "labour": (14.0, ("工地农民工工资拖欠", "工厂解除劳动关系经济补偿争议", "工伤待遇纠纷",
                      "陶瓷厂拖欠计件工资", "餐馆拖欠服务员工资")),
    "contract_debt": (9.0, ("民间借贷到期未还纠纷", "房屋装修工程款纠纷", "货款拖欠纠纷",
                            "租金拖欠纠纷")),
    "property": (7.0, ("物业费收取与服务质量纠纷", "小区停车位使用争议",
                       "电梯维修费用分摊纠纷", "商品房延期交房纠纷")),
    "land_resources": (6.0, ("山林界址争议", "农田灌溉用水纠纷", "承包地边界争议",
                             "鱼塘承包期满归还纠纷")),
    "traffic": (4.0, ("电动车与行人碰撞赔偿纠纷", "车辆剐蹭维修费用纠纷",
                      "交通事故医疗费垫付纠纷")),
    "land_requisition": (3.0, ("征地补偿款分配争议", "房屋拆迁安置面积争议",
                               "青苗补偿标准争议")),
    "consumer": (3.0, ("购买家电质量问题退换纠纷", "预付卡退费纠纷", "装修材料以次充好纠纷")),
    "environment": (2.5, ("烧烤油烟扰民", "养殖场气味影响周边居民", "加工厂夜间噪音扰民")),
    "medical": (1.5, ("诊所治疗后病情加重引发医疗纠纷", "医疗费用结算争议")),
    "enterprise": (1.0, ("企业改制职工安置争议", "改制企业职工社保接续纠纷")),
    "domestic_violence": (1.0, ("家庭暴力求助", "夫妻争吵中发生肢体冲突")),
}

#: kind → (low, medium, high) weights of the risk recorded
RISKS: dict[str, tuple[float, float, float]] = {
    "domestic_violence": (0.2, 0.5, 0.3),
    "labour": (0.55, 0.3, 0.15),
    "land_requisition": (0.45, 0.35, 0.2),
    "enterprise": (0.45, 0.35, 0.2),
    "medical": (0.5, 0.35, 0.15),
}
DEFAULT_RISK = (0.74, 0.21, 0.05)

#: kind → (least, most) yuan at stake, for the kinds where money usually is
AMOUNTS: dict[str, tuple[int, int]] = {
    "labour": (2_000, 80_000), "contract_debt": (3_000, 150_000), "traffic": (800, 40_000),
    "consumer": (300, 8_000), "medical": (2_000, 60_000), "land_requisition": (8_000, 200_000),
    "property": (500, 20_000),
}

#: kinds whose respondent is usually an organisation, and what it is called
ORGANISATIONS: dict[str, tuple[str, ...]] = {
    "labour": ("建筑劳务有限公司", "陶瓷有限公司", "包装厂", "餐饮店"),
    "property": ("物业管理有限公司", "房地产开发有限公司"),
    "consumer": ("家电商行", "装饰材料店", "健身会所"),
    "enterprise": ("瓷业有限公司",),
    "medical": ("诊所",),
    "environment": ("加工厂", "养殖场"),
}
#: the synthetic first half of an organisation's name
ORG_STEMS = ("晟垣", "宏泰", "鑫隆", "嘉禾", "瑞丰", "兴邦", "锦程", "恒远", "华韵", "瓷都")

#: when mediation fails: kind → the body it is referred to (court by default)
REFERRAL_BODIES: dict[str, str] = {
    "labour": "arbitration", "enterprise": "arbitration", "land_requisition": "petition",
    "land_resources": "petition",
}
REFERRAL_REASONS = ("双方分歧较大，经多次调解未能达成一致，告知当事人依法申请仲裁或诉讼",
                    "被申请人拒不参加调解，调解无法进行",
                    "争议涉及权属认定，超出人民调解范围")

PLACES = {"grid": ("当事人家中", "网格服务站", "小区议事亭"),
          "workstation": ("社区人民调解室", "村委会调解室"),
          "town": ("司法所调解室", "镇人民调解委员会调解室"),
          "city": ("市人民调解中心",)}
SESSION_NOTES = (
    "听取双方陈述，释明相关法律规定，双方同意冷静后再次协商。",
    "调解员背靠背做工作，双方在赔偿数额上逐步接近。",
    "邀请村（居）民代表参与，现场核实情况，双方初步达成意向。",
    "双方就履行方式和期限达成一致，同意签订调解协议。",
)
ATTENDEES = "申请人、被申请人、调解员、网格员"
AGREEMENT_TERMS = (
    "双方自愿达成如下协议：{subject}一事，被申请人于约定期限内履行相应义务，双方不再因此事发生争执。",
    "经调解，双方同意：{subject}一事按协商方案处理，相关费用由责任方承担，履行完毕后双方无其他争议。",
)
FOLLOW_UP_NOTES = {"yes": "电话回访，协议已履行，双方满意。",
                   "partly": "上门回访，协议部分履行，已督促剩余部分按期履行。",
                   "no": "回访发现协议未履行，重新组织调解。"}
WITHDRAW_REASONS = ("双方自行和解，申请人撤回调解申请", "申请人不再要求调解")
NIL_NOTES = ("本月入户走访排查，未发现矛盾纠纷。", "经排查，网格内无矛盾纠纷。", "")
