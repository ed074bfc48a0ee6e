"""Grouping in every script: words keep non-ASCII letters (NFKC, casefold) and text in
scripts without spaces is split into character pairs, so German, Russian, Chinese and
Japanese reports of one event land together and apart from the rest."""

from __future__ import annotations

from newsmark.analysis.grouping import group_texts, words

# Two reports of one event per language, then unrelated articles in the same languages.
EVENTS = {
    "de": (
        "Die Polizei in München hat am Montag einen Mann festgenommen, der im Hauptbahnhof "
        "einen Brand gelegt haben soll. Der Zugverkehr am Münchner Hauptbahnhof war stundenlang "
        "unterbrochen, die Feuerwehr löschte die Flammen in einem Kiosk.",
        "Nach dem Feuer im Münchner Hauptbahnhof nahm die Polizei München einen Verdächtigen "
        "fest. Stundenlang fuhren keine Züge, Feuerwehrleute löschten den brennenden Kiosk.",
    ),
    "ru": (
        "В Новосибирске из-за сильного снегопада закрыт аэропорт Толмачёво, задержаны "
        "десятки рейсов, пассажиры ждут в терминале.",
        "Аэропорт Толмачёво в Новосибирске закрыли из-за снегопада: десятки рейсов "
        "задерживаются, в терминале скопились пассажиры.",
    ),
    "zh": (
        "台风海燕周三在福建省沿海登陆，当地政府紧急疏散二十万居民，厦门机场取消多个航班。",
        "受台风海燕影响，福建省已紧急疏散约二十万名居民，厦门机场的多个航班被取消。",
    ),
    "ja": (
        "東京都心で記録的な大雪が降り、JR山手線が一時運転を見合わせた。",
        "記録的な大雪の影響で、東京都心のＪＲ山手線は運転を一時見合わせました。",
    ),
}
UNRELATED = {
    "de-museum": "In Hamburg eröffnete ein neues Museum für Schifffahrt; Besucher bestaunten alte "
                 "Segelschiffe und Modelle von Containerfrachtern.",
    "de-wahl": "Bei der Bürgermeisterwahl in Köln setzte sich die Kandidatin der Grünen knapp durch.",
    "ru-art": "В Москве открылась выставка современного искусства, посвящённая архитектуре "
              "двадцатого века.",
    "ru-hockey": "Сборная по хоккею выиграла товарищеский матч у команды Финляндии со счётом три — один.",
    "zh-museum": "北京故宫博物院今年将推出新的展览，展出明清时期的瓷器和书画作品。",
    "zh-car": "上海一家科技公司发布了新款电动汽车，续航里程超过六百公里。",
    "ja-aquarium": "大阪の水族館で新しいイルカのショーが始まり、多くの家族連れが訪れた。",
}


def test_words_keep_every_scripts_letters():
    assert words("München") == ["münchen"]
    assert words("МОСКВА и Москва") == ["москва", "москва"]  # one-letter words say nothing
    assert words("Straße STRASSE") == ["strasse", "strasse"]  # casefold
    assert words("ＪＲ線") == ["jr", "線"]  # NFKC turns full-width letters into ASCII
    assert words("東京都") == ["東京", "京都"]
    assert words("2017 Ελλάδα") == ["ελλάδα"]  # a word starts with a letter


def test_reports_of_one_event_group_in_every_script():
    items = [(f"{language}-{k}", None, text) for language, texts in EVENTS.items() for k, text in enumerate(texts)]
    items += [(name, None, text) for name, text in UNRELATED.items()]
    groups = group_texts(items)
    for language in EVENTS:
        assert [f"{language}-0", f"{language}-1"] in groups, (language, groups)
    for name in UNRELATED:
        assert [name] in groups, (name, groups)
