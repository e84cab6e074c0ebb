"""Console forms. They only collect input; the cleaners in validation.py judge it, so the
console, the API and import give the same answers."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from wangge.core.models import IdempotencyKey
from wangge.core.schema import SHORT, form_text
from wangge.registry.models import Building, House, Household, Resident, SpecialGroup, UnmaskLog


class SearchForm(forms.Form):
    q = forms.CharField(label=_("姓名或地址"), required=False, max_length=SHORT)
    id_number = forms.CharField(label=_("身份证号（精确）"), required=False, max_length=40)
    phone = forms.CharField(label=_("电话（精确）"), required=False, max_length=30)
    special_group = forms.ChoiceField(
        label=_("特殊人群"), required=False,
        choices=[("", "—"), *SpecialGroup.Kind.choices],
    )


class ResidentForm(forms.Form):
    name = form_text(Resident, "name", label=_("姓名"))
    id_number = forms.CharField(label=_("身份证号"), max_length=18,
                                widget=forms.TextInput(attrs={"autocomplete": "off",
                                                              "inputmode": "text"}))
    phone = forms.CharField(label=_("联系电话"), required=False, max_length=30,
                            widget=forms.TextInput(attrs={"inputmode": "tel"}))
    ethnicity = form_text(Resident, "ethnicity", label=_("民族"), required=False,
                          initial="汉族")
    residence_type = forms.ChoiceField(label=_("人口类型"), choices=Resident.ResidenceType.choices)
    building = form_text(Building, "code", label=_("楼栋编号"))
    house = form_text(House, "number", label=_("房号"))
    household = form_text(Household, "number", label=_("户号"), required=False)
    relation = forms.ChoiceField(label=_("与户主关系"), required=False,
                                 choices=[("", "—"), *Resident.Relation.choices])
    moved_in = forms.DateField(label=_("迁入日期"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}))
    client_key = form_text(IdempotencyKey, "key", required=False, widget=forms.HiddenInput)


class BuildingForm(forms.Form):
    code = form_text(Building, "code", label=_("楼栋编号"))
    name = form_text(Building, "name", label=_("名称"))
    address = form_text(Building, "address", label=_("地址"))
    lng = forms.FloatField(label=_("经度"), widget=forms.NumberInput(attrs={"step": "any"}))
    lat = forms.FloatField(label=_("纬度"), widget=forms.NumberInput(attrs={"step": "any"}))
    floors = forms.IntegerField(label=_("层数"), min_value=1, max_value=200)
    use = forms.ChoiceField(label=_("用途"), choices=Building.Use.choices)
    client_key = form_text(IdempotencyKey, "key", required=False, widget=forms.HiddenInput)


class HouseForm(forms.Form):
    building = form_text(Building, "code", label=_("楼栋编号"))
    number = form_text(House, "number", label=_("房号"))
    area = forms.DecimalField(label=_("面积(㎡)"), max_digits=8, decimal_places=2)
    use = forms.ChoiceField(label=_("用途"), choices=House.Use.choices)
    client_key = form_text(IdempotencyKey, "key", required=False, widget=forms.HiddenInput)


class UnmaskForm(forms.Form):
    purpose = form_text(UnmaskLog, "purpose", label=_("查看用途"),
                        help_text=_("必填，将记录在案"))
