"""A deterministic multilingual corpus of practice records for the search benchmark.

Text is drawn from a Zipf distribution over a per-language vocabulary: function words first (as
in real text, ~40% of running words), then ~150 urban-practice words, then a long tail of made-up
words, so there are very common terms ("ciudad" in most Spanish records), mid terms and rare terms.
Field sizes follow the brief: title ~8 words, summary ~40, body ~250 split over the practice fields.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

from citynode.origins import Origin
from protocol.records import RECORD_CONTEXT

_words = str.split  # word lists written as text, one string each

_STOP = {
    "es": _words(
        "de la que el en y los del se las por un para con una su al lo como más o pero sus"
    ),
    "en": _words("the of and to in a for is on that by with as are this from at be or an its"),
    "pt": _words("de a o que e do da em um para com uma os no se na por mais as dos como ao"),
}
_DOMAIN = {
    "es": _words(
        "ciudad proyecto programa política movilidad transporte público barrio comunidad "
        "espacio parque seguridad educación salud vivienda agua energía residuos reciclaje "
        "participación ciudadana innovación datos abiertos conectividad digital inclusión "
        "social jóvenes mujeres empleo economía cultura deporte árboles clima adaptación "
        "riesgo inundación calle bicicleta peatones metro cable tranvía autobús alcaldía "
        "presupuesto gobierno territorio rural urbano plan estrategia gestión servicio red "
        "escuela biblioteca centro mercado vecinos convivencia violencia paz memoria niños "
        "mayores discapacidad accesibilidad internet laboratorio emprendimiento formación"
    ),
    "en": _words(
        "city project programme policy mobility transport public neighbourhood community "
        "space park safety education health housing water energy waste recycling "
        "participation citizen innovation open data connectivity digital inclusion social "
        "youth women jobs economy culture sport trees climate adaptation risk flooding street "
        "bicycle pedestrians metro cable tram bus council budget government territory rural "
        "urban plan strategy management service network school library centre market "
        "residents coexistence violence peace memory children elderly disability "
        "accessibility internet lab entrepreneurship training trainings"
    ),
    "pt": _words(
        "cidade projeto programa política mobilidade transporte público bairro comunidade "
        "espaço parque segurança educação saúde habitação água energia resíduos reciclagem "
        "participação cidadã inovação dados abertos conectividade digital inclusão inclusões "
        "social jovens mulheres emprego economia cultura esporte árvores clima adaptação "
        "risco enchente rua bicicleta pedestres metrô teleférico bonde ônibus prefeitura "
        "orçamento governo território rural urbano plano estratégia gestão serviço rede "
        "escola biblioteca centro mercado vizinhos convivência violência paz memória crianças "
        "idosos deficiência acessibilidade internet laboratório empreendedorismo formação"
    ),
}
_PHRASES = {"es": "transporte público", "en": "public transport", "pt": "transporte público"}
_SYLLABLES = _words(
    "ba be bi bo bu ca co cu da de di do la le li lo lu ma me mi mo na ne ni no pa pe pi po "
    "ra re ri ro sa se si so ta te ti to va ve vi tra pro gen mar sol ter"
)

THEMES = [
    f"https://w3id.org/citynode/theme#{name}"
    for name in _words(
        "connectivity mobility public-space housing water energy waste safety education "
        "health participation open-data culture climate-adaptation economic-development "
        "inclusion"
    )
]
STATUSES = [
    f"https://w3id.org/citynode/status#{name}"
    for name in ("planned", "ongoing", "completed", "discontinued")
]
_REAL_CITIES = [
    ("Medellín", "CO"),
    ("Bogotá", "CO"),
    ("Cali", "CO"),
    ("Barranquilla", "CO"),
    ("São Paulo", "BR"),
    ("Curitiba", "BR"),
    ("Recife", "BR"),
    ("Porto Alegre", "BR"),
    ("Ciudad de México", "MX"),
    ("Guadalajara", "MX"),
    ("Monterrey", "MX"),
    ("Lima", "PE"),
    ("Santiago", "CL"),
    ("Valparaíso", "CL"),
    ("Buenos Aires", "AR"),
    ("Rosario", "AR"),
    ("Montevideo", "UY"),
    ("Quito", "EC"),
    ("La Paz", "BO"),
    ("Asunción", "PY"),
    ("Madrid", "ES"),
    ("Barcelona", "ES"),
    ("Bilbao", "ES"),
    ("Lisboa", "PT"),
    ("Porto", "PT"),
    ("Amsterdam", "NL"),
    ("Toronto", "CA"),
    ("Chicago", "US"),
    ("Nairobi", "KE"),
    ("Seoul", "KR"),
]
_COUNTRIES = ["CO", "BR", "MX", "PE", "CL", "AR", "UY", "EC", "ES", "PT", "US", "CA", "KE", "NL"]


def _zipf_vocab(rng: random.Random, lang: str, tail: int) -> tuple[list[str], list[float]]:
    words = list(_STOP[lang]) + list(_DOMAIN[lang])
    seen = set(words)
    while len(words) < len(_STOP[lang]) + len(_DOMAIN[lang]) + tail:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    weights = list(itertools.accumulate(1.0 / (rank + 2.7) ** 1.02 for rank in range(len(words))))
    return words, weights


def origins(count: int = 300, seed: int = 7) -> list[Origin]:
    """`count` city nodes: the real cities above, then made-up ones across the same countries."""
    rng = random.Random(seed)
    result = []
    for n in range(count):
        if n < len(_REAL_CITIES):
            city, country = _REAL_CITIES[n]
        else:
            city = "".join(rng.choice(_SYLLABLES) for _ in range(3)).capitalize() + f" {n}"
            country = rng.choice(_COUNTRIES)
        slug = f"city{n}"
        result.append(
            Origin(
                did=f"did:web:{slug}.example",
                base_url=f"https://{slug}.example",
                city=city,
                country=country,
            )
        )
    return result


class _Writer:
    def __init__(self, rng: random.Random, tail: int):
        self.rng = rng
        self.vocab = {lang: _zipf_vocab(rng, lang, tail) for lang in _STOP}

    def words(self, lang: str, count: int) -> str:
        words, cum = self.vocab[lang]
        picked = self.rng.choices(words, cum_weights=cum, k=count)
        if self.rng.random() < 0.08:
            picked.insert(self.rng.randrange(len(picked) + 1), _PHRASES[lang])
        text = " ".join(picked)
        return text[:1].upper() + text[1:] + "."


def vocabulary(seed: int = 42) -> dict[str, list[str]]:
    """The corpus' words per language, most frequent first (as `corpus(seed=seed)` draws them)."""
    writer = _Writer(random.Random(seed), tail=20_000)
    return {lang: words for lang, (words, _) in writer.vocab.items()}


def corpus(size: int, seed: int = 42, cities: int = 300) -> Iterator[tuple[dict[str, Any], Origin]]:
    """`size` (record dict, origin) pairs, the same for the same seed."""
    rng = random.Random(seed)
    writer = _Writer(rng, tail=20_000)
    nodes = origins(cities)
    for n in range(size):
        origin = nodes[rng.randrange(len(nodes))] if n >= len(nodes) else nodes[n]
        lang = rng.choices(("es", "en", "pt"), weights=(50, 25, 25))[0]
        langs = [lang] if lang == "en" or rng.random() > 0.2 else [lang, "en"]
        year = rng.randint(2008, 2025)
        month = rng.randint(1, 12)
        modified = (
            f"{min(year + rng.randint(0, 3), 2025)}-{month:02d}-{rng.randint(1, 28):02d}T10:00:00Z"
        )
        kind = rng.choices(("Project", "Policy", "Programme", "Result"), weights=(55, 15, 20, 10))[
            0
        ]

        def text(count: int, langs: list[str] = langs) -> dict[str, str]:
            return {
                code: writer.words(code, max(1, int(rng.gauss(count, count / 5)))) for code in langs
            }

        goal = rng.randint(1, 17)
        doc: dict[str, Any] = {
            # Stored records as the index reads them: the bundled context and a well-formed
            # proof (not checked by the index), so every record takes the typed fast path of
            # protocol/readable.py as real ones do.
            "@context": RECORD_CONTEXT,
            "type": kind,
            "id": f"{origin.base_url}/records/{n}",
            "version": 1,
            "issued": modified,
            "modified": modified,
            "publisher": origin.did,
            "title": text(8),
            "summary": text(40),
            "status": rng.choice(STATUSES),
            "keywords": {lang: writer.words(lang, 4).rstrip(".").split()},
            "proof": {
                "type": "DataIntegrityProof",
                "cryptosuite": "eddsa-jcs-2022",
                "created": modified,
                "verificationMethod": f"{origin.did}#key-1",
                "proofPurpose": "assertionMethod",
                "proofValue": "z" + "1" * 86,
            },
        }
        if kind == "Result":
            doc["resultOf"] = f"{origin.base_url}/records/{max(0, n - 1)}"
            doc["description"] = text(120)
            doc["measurements"] = []
        else:
            doc.update(
                {
                    "description": text(100),
                    "problem": text(50),
                    "approach": text(60),
                    "lessonsLearned": text(40),
                    "themes": rng.sample(THEMES, rng.randint(1, 3)),
                    "sdgs": [
                        f"http://metadata.un.org/sdg/{goal}",
                        f"http://metadata.un.org/sdg/{goal}.{rng.randint(1, 9)}",
                    ][: rng.randint(1, 2)],
                    "startDate": f"{year}-{month:02d}-01",
                }
            )
        yield doc, origin
