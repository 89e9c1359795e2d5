"""Code tables for the person file (standards.md §7.3, §7.4; GB/T 42195 Appendix A)."""

from __future__ import annotations

from django.db import models

# GB 3304 民族, in the official order (01 汉族 … 56 基诺族); standards.md §7.3 (ONE SOURCE past 03).
_ETHNIC_NAMES = ["汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺"]
ETHNICITY_CHOICES = [(f"{i:02d}", f"{name}族") for i, name in enumerate(_ETHNIC_NAMES, start=1)]
ETHNICITY_BY_NAME = {label: code for code, label in ETHNICITY_CHOICES} | {
    label[:-1]: code for code, label in ETHNICITY_CHOICES
}


class Sex(models.TextChoices):  # GB/T 2261.1
    MALE = "1", "男"
    FEMALE = "2", "女"
    UNKNOWN = "0", "未知"
    UNSTATED = "9", "未说明"


class MaritalStatus(models.TextChoices):  # GB/T 2261.2 (first-level codes)
    UNMARRIED = "10", "未婚"
    MARRIED = "20", "已婚"
    WIDOWED = "30", "丧偶"
    DIVORCED = "40", "离婚"
    UNSTATED = "90", "未说明"


class LivingArrangement(models.TextChoices):  # GB/T 42195 A.2.10, main arrangement
    ALONE = "alone", "独居"
    WITH_SPOUSE = "with_spouse", "与配偶居住"
    WITH_CHILDREN = "with_children", "与子女居住"
    WITH_PARENTS = "with_parents", "与父母居住"
    WITH_SIBLINGS = "with_siblings", "与兄弟姐妹居住"
    WITH_RELATIVES = "with_relatives", "与其他亲属居住"
    WITH_NON_RELATIVES = "with_non_relatives", "与非亲属关系的人居住"
    INSTITUTION = "institution", "养老机构"


class EconomicStatus(models.TextChoices):
    ORDINARY = "ordinary", "一般"
    LOW_INCOME = "low_income", "低收入家庭"
    DIBAO_EDGE = "dibao_edge", "低保边缘"
    DIBAO = "dibao", "低保"
    TEKUN = "tekun", "特困供养"
    EXPENDITURE_POVERTY = "expenditure_poverty", "支出型贫困"
    THREE_NO = "three_no", "三无老人"


class TekunSupportMode(models.TextChoices):
    CENTRALIZED = "centralized", "集中供养"
    DISPERSED = "dispersed", "分散供养"


class DisabilityCategory(models.TextChoices):  # 残疾人证 categories (GB/T 26341)
    VISION = "1", "视力残疾"
    HEARING = "2", "听力残疾"
    SPEECH = "3", "言语残疾"
    PHYSICAL = "4", "肢体残疾"
    INTELLECTUAL = "5", "智力残疾"
    MENTAL = "6", "精神残疾"
    MULTIPLE = "7", "多重残疾"


class DisabilityGrade(models.IntegerChoices):
    GRADE_1 = 1, "一级"
    GRADE_2 = 2, "二级"
    GRADE_3 = 3, "三级"
    GRADE_4 = 4, "四级"


class PersonStatus(models.TextChoices):
    ACTIVE = "active", "在册"
    HOSPITALISED = "hospitalised", "住院"
    IN_INSTITUTION = "in_institution", "入住机构"
    MOVED_AWAY = "moved_away", "迁出"
    DECEASED = "deceased", "死亡"


# Health problems commonly recorded on elder files (GB/T 42195 A.4/A.5 shortlist, condensed).
CHRONIC_CONDITIONS = (
    "高血压", "糖尿病", "冠心病", "脑卒中", "慢阻肺", "骨质疏松", "骨关节病", "帕金森病",
    "阿尔茨海默病", "其他痴呆", "精神疾病", "恶性肿瘤", "慢性肾病", "白内障", "听力障碍",
)


class Relation(models.TextChoices):
    SPOUSE = "spouse", "配偶"
    SON = "son", "儿子"
    DAUGHTER = "daughter", "女儿"
    CHILD_IN_LAW = "child_in_law", "儿媳/女婿"
    GRANDCHILD = "grandchild", "孙辈"
    SIBLING = "sibling", "兄弟姐妹"
    OTHER_RELATIVE = "other_relative", "其他亲属"
    NEIGHBOUR = "neighbour", "邻居"
    GUARDIAN = "guardian", "监护人（非亲属）"
    OTHER = "other", "其他"


class AttachmentKind(models.TextChoices):
    ID_COPY = "id_copy", "身份证复印件"
    HOUSEHOLD_REGISTER = "household_register", "户口簿"
    DISABILITY_CERTIFICATE = "disability_certificate", "残疾人证"
    ASSISTANCE_CERTIFICATE = "assistance_certificate", "低保/特困证明"
    MEDICAL = "medical", "病历/诊断证明"
    OTHER = "other", "其他"
