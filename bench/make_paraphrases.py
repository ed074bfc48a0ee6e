"""Build tests/fixtures/paraphrases.jsonl (known paraphrase pairs) and
tests/fixtures/paraphrase_articles.jsonl (the corpus articles they are searched in).

Each pair is a claim sentence in one article and the sentence of another article of the
same story that states the same thing in other words, picked by hand (candidates were
listed by shared word stems, then read): 14 from the seeds (001 is a paraphrase, 003 a
word-spun copy, of one NBC News report) and the rest from the Kim Jong-nam story of
NewsArticles.csv (the 34 articles that name him; ids are the CSV's `article_id`). Each
sentence is named by a fragment of it; the whole sentence is the one
analysis.sentences.split_sentences gives around the fragment.

Run: .venv/bin/python bench/make_paraphrases.py [--csv PATH]
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

import orjson

from newsmark.analysis.sentences import split_sentences

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CSV = ROOT.parent / "shared" / "data" / "news-articles" / "NewsArticles.csv"
KIM = re.compile(r"Kim Jong[- ]?[Nn]am")

# (claim article, fragment of the claim, partner article, fragment of the partner)
SEED_PAIRS = [
    ("001", "Biden Administration Considers Cooperation", "003", "The enemy of my enemy: Biden admin weighs"),
    ("001", "deliberating over the prospect of enhancing collaboration", "003", "debating expanding cooperation"),
    ("001", "to monitor and combat ISIS-K has significantly diminished", "003", "have weakened Washington"),
    ("001", "Crocus City Hall concert venue", "003", "Crocus Metropolis Corridor"),
    ("001", "orchestrated a major assault in Iran", "003", "launched a key assault in Iran"),
    ("001", "severe limitations in intelligence gathering", "003", "really restricted capability to see"),
    ("001", "exploring avenues to share critical intelligence", "003", "weighing sharing much more data"),
    ("001", "views ISIS-K as a direct threat to its rule", "003", "sees ISIS-K as a menace to its rule"),
    ("001", "deep-rooted distrust persists", "003", "there is deep distrust involving the West"),
    ("001", "sparked internal debate within the U.S. government", "003", "an inside discussion about irrespective"),
    ("001", "contingent upon assurances of human rights", "003", "demand from customers concessions"),
    ("001", "intelligence sharing with the Taliban remains a practical necessity", "003",
     "Sharing intelligence on shared worries"),
    ("001", "no immediate plans to reopen its embassy", "003", "no intention of reopening an embassy"),
    ("001", "affirmed the administration's commitment to countering terrorism", "003",
     "acutely concentrated on terrorism"),
]
KIM_PAIRS = [
    ("1301", "will not release the body of the half-brother", "1229", "without DNA from a next of kin"),
    ("1761", "resisted giving up the body without getting DNA", "2284", "still refusing to release his body"),
    ("1839", "refused to release the body to the North Korean embassy", "2623",
     "can only be handed over to the next-of-kin"),
    ("2534", "from the child of the deceased", "2623", "confirmed using DNA samples taken from one of his children"),
    ("2633", "identity using DNA from his son", "2534", "from the child of the deceased"),
    ("1229", "no next of kin had come forward", "1301", "So far no family member or next of kin"),
    ("1875", "no one thus far has come forward to claim the body", "1301", "So far no family member or next of kin"),
    ("1839", "Police are also seeking to question seven others", "2396", "identified seven other North Koreans"),
    ("1457", "was killed by a highly toxic nerve agent, says Malaysia", "1425", "had been exposed to nerve agent"),
    ("1835", "fell out of favour with his father", "1875", "reportedly fell out of favor"),
    ("1562", "would be formally charged and could face death", "1597", "face a mandatory death sentence"),
    ("1860", "to end visa-free travel for North Koreans", "1875", "ending visa-free travel"),
    ("1587", "a Malaysian man out on bail", "1597", "a Malaysian who is out on bail"),
    ("1835", "Pyongyang has denied the accusations", "1839", "North Korea has denied the accusations"),
    ("1425", "a preliminary analysis found VX nerve agent on the face", "1875", "in a Feb. 24 statement"),
    ("1597", "Siti Aisyah and Vietnamese Doan Thi Huong will be charged", "2534", "have both been charged with murder"),
    ("1875", "it didn\"t make sense for Malaysian authorities", "1959", "said it made no sense"),
    ("1875", "refusal to acknowledge that the victim", "2633", "refused to acknowledge that the victim"),
    ("1597", "Police allege the women smeared VX nerve agent", "1959", "allegedly smeared his face with VX"),
    ("1425", "is a human-made chemical warfare agent", "1875", "VX is a man-made chemical warfare agent"),
    ("1606", "cited the National Intelligence Service", "1875", "said in an interview with the AP"),
    ("1562", "The other suspects include a senior official", "1860", "Police want to question seven others"),
    ("3573", "smeared super toxic VX nerve agent on his face at the budget terminal", "3790",
     "Kim was assassinated at Kuala Lumpur's airport"),
    ("1540", "rubbed a highly toxic VX nerve agent", "3812", "Kim was killed by two women who smeared"),
    ("1587", "searching for a further seven North Korean nationals", "1761", "seeking seven other North Korean suspects"),
    ("1597", "seek the retrieval of the body", "1875", "wanted to obtain the victim's body"),
    ("1562", "Two women implicated in the killing", "1597", "The two women accused of killing"),
    ("1491", "died after two women attacked him", "1503", "died after being assaulted"),
]


def sentence(text: str, fragment: str) -> str:
    """The sentence of `text` holding `fragment`."""
    at = text.index(fragment)
    return next(text[s:e] for s, e in split_sentences(text) if s <= at < e)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv", type=Path, default=CSV)
    args = parser.parse_args()
    seeds = {path.name[:3]: (path.name, path.read_text(encoding="utf-8"))
             for path in sorted((ROOT / "seeds").glob("*.txt"))}
    with args.csv.open(encoding="utf-8", newline="") as handle:
        kim = [row for row in csv.DictReader(handle) if KIM.search(row["text"])]
    texts = {row["article_id"]: row["text"] for row in kim}
    pairs = []
    for claim_id, claim, partner_id, partner in SEED_PAIRS:
        pairs.append({
            "story": "seeds", "claim_article": seeds[claim_id][0], "claim": sentence(seeds[claim_id][1], claim),
            "partner_article": seeds[partner_id][0], "partner": sentence(seeds[partner_id][1], partner),
            "source": f"seeds/{seeds[claim_id][0]} and seeds/{seeds[partner_id][0]}",
        })
    for claim_id, claim, partner_id, partner in KIM_PAIRS:
        pairs.append({
            "story": "kim-jong-nam", "claim_article": claim_id, "claim": sentence(texts[claim_id], claim),
            "partner_article": partner_id, "partner": sentence(texts[partner_id], partner),
            "source": f"NewsArticles.csv article_id {claim_id} and {partner_id}",
        })
    FIXTURES.joinpath("paraphrases.jsonl").write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in pairs))
    articles = [{"story": "kim-jong-nam", "id": row["article_id"], "source": row["article_source_link"],
                 "title": row["title"], "text": row["text"]} for row in kim]
    FIXTURES.joinpath("paraphrase_articles.jsonl").write_bytes(b"".join(orjson.dumps(a) + b"\n" for a in articles))
    print(f"{len(pairs)} pairs ({len(SEED_PAIRS)} from the seeds), {len(articles)} corpus articles")


if __name__ == "__main__":
    main()
