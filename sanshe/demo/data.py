"""Fixed material for the demo district 青溪区: its places, organisations, demo accounts and the
name, address and health tables people are drawn from. Every place and person is fictional."""

from __future__ import annotations

from dataclasses import dataclass

# A fictional county-level code: 3301 is a real city prefix, 99 is not a real district in it.
DISTRICT_CODE = "330199000000"
DISTRICT_NAME = "青溪区"
# Every generated coordinate lies inside this box (south, north, west, east).
DISTRICT_BOX = (30.20, 30.32, 120.05, 120.25)


@dataclass(frozen=True, slots=True)
class CommunitySpec:
    code: str
    name: str
    latitude: float
    longitude: float
    roads: tuple[str, ...]  # for a village: empty, addresses use groups (组) instead
    weight: float  # relative number of elders living there

    @property
    def is_village(self) -> bool:
        return self.name.endswith("村")


@dataclass(frozen=True, slots=True)
class StreetSpec:
    code: str
    name: str
    office: str  # the street office (街道办事处) or town government (镇人民政府)
    communities: tuple[CommunitySpec, ...]


# Codes follow 统计用区划代码: streets (街道) 001-099, towns (镇) 100-199; residents' committees
# (居委会) 001-199 and villagers' committees (村委会) 200-399 under them.
STREETS: tuple[StreetSpec, ...] = (
    StreetSpec("330199001000", "溪口街道", "溪口街道办事处", (
        CommunitySpec("330199001001", "杏林社区", 30.2740, 120.1960, ("杏林路", "青溪路", "学士街"), 1.3),
        CommunitySpec("330199001002", "柳岸社区", 30.2810, 120.2070, ("柳岸路", "滨河路", "春风街"), 1.1),
        CommunitySpec("330199001003", "望湖社区", 30.2660, 120.2120, ("望湖路", "湖滨街", "青溪路"), 1.0),
        CommunitySpec("330199001004", "文星社区", 30.2590, 120.1990, ("文星路", "学院街", "书香路"), 1.2),
    )),
    StreetSpec("330199002000", "桂花街道", "桂花街道办事处", (
        CommunitySpec("330199002001", "金桂社区", 30.2960, 120.1680, ("金桂路", "桂花街", "丹枫路"), 1.2),
        CommunitySpec("330199002002", "丹桂社区", 30.3020, 120.1810, ("丹桂路", "桂花街", "新华街"), 1.0),
        CommunitySpec("330199002003", "香樟社区", 30.2880, 120.1580, ("香樟路", "樟园街", "光明路"), 0.9),
        CommunitySpec("330199002004", "锦绣社区", 30.2840, 120.1760, ("锦绣路", "和平街", "育才路"), 1.1),
    )),
    StreetSpec("330199003000", "东岚街道", "东岚街道办事处", (
        CommunitySpec("330199003001", "东岚社区", 30.2380, 120.1860, ("东岚路", "岚山街", "朝阳路"), 1.2),
        CommunitySpec("330199003002", "梧桐社区", 30.2310, 120.1730, ("梧桐路", "凤鸣街", "朝阳路"), 1.0),
        CommunitySpec("330199003003", "晓园社区", 30.2460, 120.1640, ("晓园路", "晨曦街", "育才路"), 0.9),
        CommunitySpec("330199003004", "书院社区", 30.2520, 120.1810, ("书院路", "文昌街", "东岚路"), 1.0),
    )),
    StreetSpec("330199101000", "梅坞镇", "梅坞镇人民政府", (
        CommunitySpec("330199101001", "梅坞社区", 30.2620, 120.0980, ("梅坞路", "老街", "镇中路"), 0.8),
        CommunitySpec("330199101201", "上林村", 30.2860, 120.0790, (), 0.6),
        CommunitySpec("330199101202", "竹溪村", 30.2410, 120.0710, (), 0.5),
        CommunitySpec("330199101203", "石桥村", 30.2270, 120.1020, (), 0.6),
        CommunitySpec("330199101204", "茶坪村", 30.3020, 120.1120, (), 0.5),
    )),
)

# Organisations at district level: (name, kind, credit-code prefix). Kinds are OrganizationKind values.
BUREAU = "青溪区民政局"
DISTRICT_ORGANIZATIONS: tuple[tuple[str, str, str], ...] = (
    (BUREAU, "civil_affairs_bureau", "11"),
    ("青溪区卫生健康局", "government_department", "11"),
    ("青溪区残疾人联合会", "government_department", "13"),
    ("青溪区医疗保障局", "government_department", "11"),
    ("青溪区慈善总会", "charity", "51"),
    ("青溪衡信老年能力评估中心", "assessment_agency", "52"),
    ("青溪颐康居家养老服务中心", "provider", "52"),
)
# Organisations placed in a street: (street code, name, kind, credit-code prefix).
STREET_ORGANIZATIONS: tuple[tuple[str, str, str, str], ...] = (
    ("330199001000", "溪口乐龄家政服务有限公司", "provider", "91"),
    ("330199101000", "梅坞乡村颐养服务社", "provider", "52"),
    ("330199001000", "溪口社工服务站", "social_work_agency", "52"),
)
PROVIDER = "青溪颐康居家养老服务中心"
ASSESSMENT_AGENCY = "青溪衡信老年能力评估中心"
CHARITY = "青溪区慈善总会"
DEMO_STREET = "330199001000"
DEMO_COMMUNITY = "330199001001"


@dataclass(frozen=True, slots=True)
class AccountSpec:
    role: str  # a Role value
    username: str
    full_name: str
    organization: str  # an organisation name, or "street" / "community" for the demo street and community
    key: str = ""  # the entry in demo-accounts.json; the role unless a role has a second account


ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("admin", "demo_admin", "沈晓峰", BUREAU),
    AccountSpec("district_officer", "demo_district", "王静怡", BUREAU),
    # Entitlements are approved by a different person than the one who computed them.
    AccountSpec("district_officer", "demo_director", "陈建民", BUREAU, key="district_officer_2"),
    AccountSpec("street_officer", "demo_street", "李文涛", "street"),
    AccountSpec("elder_assistant", "demo_community", "赵丽萍", "community"),
    AccountSpec("social_worker", "demo_socialworker", "孙雨晴", "community"),
    AccountSpec("provider_manager", "demo_provider", "钱国栋", PROVIDER),
    AccountSpec("caregiver", "demo_caregiver", "吴桂芳", PROVIDER),
    AccountSpec("assessor", "demo_assessor", "郑一鸣", ASSESSMENT_AGENCY),
    # Assessments are done by two assessors on site (GB/T 42195 practice): a second one to pair with.
    AccountSpec("assessor", "demo_assessor2", "林佳琪", ASSESSMENT_AGENCY, key="assessor_2"),
    AccountSpec("agency_manager", "demo_agency", "何慧敏", ASSESSMENT_AGENCY),
    AccountSpec("operator", "demo_operator", "冯晓雯", BUREAU),
    AccountSpec("volunteer", "demo_volunteer", "陈思远", CHARITY),
    AccountSpec("auditor", "demo_auditor", "褚建平", BUREAU),
)

# Surnames weighted roughly by national frequency, with the local (Zhejiang) ones a little higher.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.1), ("李", 6.8), ("张", 6.5), ("刘", 5.0), ("陈", 5.4), ("杨", 3.0), ("黄", 2.4), ("赵", 2.2),
    ("吴", 2.4), ("周", 2.0), ("徐", 2.0), ("孙", 1.5), ("马", 1.1), ("朱", 1.4), ("胡", 1.4), ("郭", 1.0),
    ("何", 1.1), ("林", 1.1), ("高", 1.0), ("罗", 0.9), ("郑", 1.0), ("梁", 0.7), ("谢", 0.7), ("宋", 0.7),
    ("唐", 0.7), ("许", 0.7), ("韩", 0.6), ("冯", 0.6), ("邓", 0.5), ("曹", 0.5), ("彭", 0.5), ("曾", 0.4),
    ("肖", 0.5), ("田", 0.4), ("董", 0.4), ("袁", 0.4), ("潘", 0.5), ("于", 0.3), ("蒋", 0.6), ("蔡", 0.5),
    ("余", 0.5), ("杜", 0.3), ("叶", 0.6), ("程", 0.3), ("苏", 0.3), ("魏", 0.3), ("吕", 0.3), ("丁", 0.3),
    ("任", 0.3), ("沈", 0.8), ("姚", 0.4), ("卢", 0.3), ("姜", 0.3), ("崔", 0.2), ("钟", 0.2), ("谭", 0.2),
    ("陆", 0.5), ("汪", 0.4), ("范", 0.3), ("金", 0.5), ("石", 0.2), ("方", 0.4), ("邵", 0.3), ("俞", 0.4),
    ("章", 0.3), ("钱", 0.4), ("应", 0.2), ("楼", 0.2), ("毛", 0.3), ("夏", 0.2), ("施", 0.2), ("严", 0.2),
)

# Given names common among people born 1920-1965, as whole names (weighted) and as parts to combine.
ELDER_GIVEN_MALE: tuple[tuple[str, float], ...] = (
    ("建国", 3), ("建华", 2), ("国平", 2), ("国庆", 2), ("德明", 2), ("志明", 2), ("永福", 2), ("福生", 2),
    ("根生", 2), ("水生", 2), ("金生", 2), ("长林", 1), ("长根", 2), ("春生", 2), ("海林", 1), ("兴国", 1),
    ("振华", 2), ("卫东", 1), ("卫国", 2), ("爱国", 1), ("立新", 1), ("学明", 1), ("树林", 1), ("德林", 1),
    ("正明", 1), ("庆华", 1), ("炳章", 1), ("茂林", 1), ("松年", 1), ("鹤年", 1), ("寿康", 1), ("连生", 1),
    ("顺发", 1), ("阿根", 1), ("文斌", 1), ("明华", 1), ("荣生", 1), ("家福", 1), ("培根", 1), ("宝生", 1),
    ("忠良", 1), ("仁和", 1), ("福林", 1), ("德顺", 1), ("锦华", 1), ("金海", 1), ("祖荣", 1), ("关林", 1),
)
ELDER_GIVEN_FEMALE: tuple[tuple[str, float], ...] = (
    ("秀英", 4), ("桂英", 3), ("秀兰", 3), ("玉兰", 2), ("桂兰", 2), ("秀珍", 3), ("玉珍", 2), ("玉英", 2),
    ("翠英", 2), ("秀芳", 2), ("素珍", 2), ("淑珍", 2), ("淑英", 1), ("月英", 2), ("美华", 1), ("丽华", 1),
    ("凤珍", 1), ("金凤", 2), ("彩凤", 1), ("爱珍", 1), ("爱华", 1), ("素英", 1), ("雪梅", 1), ("冬梅", 1),
    ("红梅", 1), ("菊英", 2), ("菊芳", 1), ("桂芳", 2), ("美英", 1), ("巧珍", 1), ("宝珍", 1), ("杏娟", 1),
    ("阿英", 1), ("招娣", 1), ("银娣", 1), ("彩娥", 1), ("月娥", 1), ("秀娥", 1), ("惠珍", 1), ("佩珍", 1),
)
ELDER_MALE_FIRST = "国德志永福金长春海振卫学树正庆茂松寿荣家培忠仁锦祖宝文明兴"
ELDER_MALE_SECOND = "华明林生根福荣祥康平才发昌海兴山元良贵泉富章伦"
ELDER_FEMALE_FIRST = "秀桂玉凤翠素淑月美丽金彩爱雪冬菊巧惠佩银阿杏琴"
ELDER_FEMALE_SECOND = "英兰珍芳华凤娣娟琴仙花梅贞萍莲芬云霞娥妹"
ELDER_SINGLE_MALE = "伟强军勇斌平明华林刚忠昌福荣根康良"
ELDER_SINGLE_FEMALE = "芳英兰珍梅萍琴娟霞敏静燕丽玲秀"

# The next two generations, for contacts (children born 1955-1990, grandchildren 1985-2005).
CHILD_GIVEN_MALE = ("伟", "军", "勇", "强", "斌", "杰", "建军", "建平", "海波", "志刚", "晓东", "国伟", "立军",
                    "文杰", "永刚", "卫平", "红兵", "伟明", "剑锋", "俊", "鹏飞", "建伟", "海军", "东升")
CHILD_GIVEN_FEMALE = ("丽", "静", "燕", "敏", "艳", "霞", "丽萍", "红霞", "海燕", "晓燕", "丽娟", "雪芳", "美玲",
                      "春燕", "玉萍", "慧", "琳", "晓红", "建英", "秀娟", "彩霞", "丽君", "雅琴", "亚芬")
GRANDCHILD_GIVEN_MALE = ("浩", "宇", "浩然", "子豪", "俊杰", "宇航", "天宇", "梓轩", "晨阳", "嘉豪", "家乐", "泽宇")
GRANDCHILD_GIVEN_FEMALE = ("婷", "欣怡", "雨婷", "佳怡", "梦瑶", "思琪", "诗涵", "子涵", "晓雯", "雨欣", "可欣",
                           "佳琪")

# Names of well-known people the drawing might otherwise produce; such a draw is repeated.
FAMOUS_NAMES = frozenset({
    "朱德", "陈云", "李鹏", "李强", "王毅", "王勇", "王刚", "汪洋", "李希", "韩正", "陈毅", "于敏", "余华", "丁玲",
    "田华", "谢芳", "倪萍", "朱军", "周涛", "刘涛", "张杰", "陈红", "韩红", "丁磊", "李宁", "郎平", "马云", "雷军",
    "成龙", "巴金", "老舍", "冰心", "茅盾", "鲁迅", "马兰", "姚明", "刘翔", "李娜", "黄菊", "郭兰英", "徐玉兰",
    "严凤英", "袁雪芬", "梅兰芳", "侯宝林", "刘德华", "董建华", "董文华", "唐国强", "贺国强", "周永康", "杨丽萍",
    "李兰娟", "张桂梅", "殷秀梅", "李建国", "王志刚", "许海峰", "陈晓东", "张一鸣", "孙春兰", "彭丽媛", "王文娟",
    "范瑞娟", "张学友", "张国荣", "陈道明", "陈宝国", "李秀明", "王丹凤", "张瑞芳", "张爱玲", "李小龙", "聂卫平",
    "李连杰", "周润发", "王菲", "邓丽君", "毛泽东", "周恩来", "刘少奇", "邓小平", "江泽民", "胡锦涛", "习近平",
    "温家宝", "朱镕基", "李克强", "钱学森", "邓稼先", "袁隆平", "屠呦呦", "钟南山", "雷锋", "焦裕禄", "杨振宁",
    "李四光", "华罗庚", "陈景润", "宋庆龄", "邓颖超", "孙中山", "秋瑾", "金庸", "莫言", "钱钟书", "杨绛", "季羡林",
})

# Mobile prefixes (number segments) and how often to draw each.
MOBILE_PREFIXES: tuple[tuple[str, float], ...] = (
    ("130", 3), ("131", 3), ("132", 2), ("133", 3), ("135", 5), ("136", 4), ("137", 4), ("138", 6), ("139", 6),
    ("150", 3), ("151", 3), ("152", 2), ("153", 2), ("155", 2), ("157", 3), ("158", 4), ("159", 4),
    ("177", 1), ("180", 2), ("181", 2), ("186", 2), ("187", 2), ("189", 3), ("199", 1),
)
LANDLINE_AREA = "0571"

# Where people registered outside the district come from: (ID area code, registered-address prefix).
# The county names and codes are fictional (xx99 is not a real county code in these cities).
OUTSIDE_ORIGINS: tuple[tuple[str, str], ...] = (
    ("340199", "安徽省凤溪县"),
    ("360199", "江西省青岚县"),
    ("320199", "江苏省梅川县"),
    ("410199", "河南省柳营县"),
)
# ID area codes of people registered in the district: mostly 330199, some issued in neighbouring
# (equally fictional) counties before they moved in.
LOCAL_ID_AREAS: tuple[tuple[str, float], ...] = (("330199", 88), ("330191", 5), ("330192", 4), ("330198", 3))

# Age bands (first age, last age, share of elders, share of women) after the 2020 census shape,
# with the oldest bands thickened slightly so a small demo still has a few centenarians.
AGE_BANDS: tuple[tuple[int, int, float, float], ...] = (
    (60, 64, 26.0, 0.50),
    (65, 69, 25.5, 0.51),
    (70, 74, 18.0, 0.52),
    (75, 79, 12.0, 0.54),
    (80, 84, 9.0, 0.57),
    (85, 89, 5.6, 0.61),
    (90, 94, 2.9, 0.66),
    (95, 99, 0.8, 0.72),
    (100, 105, 0.12, 0.78),
)

# (condition, prevalence at 60, extra prevalence per year of age over 60). Names are CHRONIC_CONDITIONS values.
CHRONIC_PREVALENCE: tuple[tuple[str, float, float], ...] = (
    ("高血压", 0.38, 0.005),
    ("糖尿病", 0.15, 0.001),
    ("冠心病", 0.06, 0.002),
    ("脑卒中", 0.03, 0.0015),
    ("慢阻肺", 0.05, 0.0012),
    ("骨质疏松", 0.06, 0.003),
    ("骨关节病", 0.10, 0.003),
    ("帕金森病", 0.005, 0.0004),
    ("阿尔茨海默病", 0.005, 0.0015),
    ("其他痴呆", 0.003, 0.0006),
    ("精神疾病", 0.01, 0.0),
    ("恶性肿瘤", 0.02, 0.0005),
    ("慢性肾病", 0.02, 0.0006),
    ("白内障", 0.04, 0.004),
    ("听力障碍", 0.03, 0.004),
)
MEDICATIONS = {
    "高血压": "氨氯地平",
    "糖尿病": "二甲双胍",
    "冠心病": "阿司匹林",
    "脑卒中": "氯吡格雷",
    "慢阻肺": "噻托溴铵吸入剂",
    "骨质疏松": "钙尔奇D",
    "帕金森病": "多巴丝肼",
    "阿尔茨海默病": "多奈哌齐",
    "慢性肾病": "复方α-酮酸",
}
ALLERGIES = ("青霉素", "磺胺类药物", "头孢类药物", "海鲜", "花粉")

STATUS_REASONS = {
    "hospitalised": ("因肺部感染住院治疗", "跌倒骨折住院", "脑卒中住院治疗", "心衰住院观察"),
    "in_institution": ("入住区社会福利中心", "入住梅坞镇敬老院", "入住民办养老机构", "家属送入护理院"),
    "moved_away": ("随子女迁居外地", "户籍迁出本区", "投靠亲属迁往外地"),
    "deceased": ("病故（家属告知）", "病故（火化证明）", "病故（医学死亡证明）"),
}
# Villages of origin for people registered outside the district (fictional, like their counties).
OUTSIDE_PLACES = ("双河镇新庄村", "白石乡河口村", "城关镇李湾村", "新桥乡王集村", "柳林镇东岗村")

# GB 3304 codes: almost everyone is Han; a few She (畲族, native to the region), Hui, Manchu, Tujia.
ETHNICITIES: tuple[tuple[str, float], ...] = (("01", 993), ("22", 3), ("03", 2), ("11", 1), ("15", 1))
