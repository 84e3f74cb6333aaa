"""Demo content for Manifesto: the SSE manifesto drafted after the 2026 Mont Blanc Meetings.

Pure data (Python literals). The self-check at the bottom only runs when this
file is executed directly: ``python3 manifesto/seed/demo_content.py``.

Amendment scenarios (see the comments next to each amendment):

- COLLIDING PAIR: a1 and a2 (both "submitted", section "energy") change
  overlapping words of the same sentence in different ways.
- CLEAN REBASE: a3 ("accepted", "rebase-trigger") and a4 ("submitted",
  "rebased", after a3) on section "food", in the first and last paragraphs.
- CONFLICT: a5 ("accepted", "conflict-trigger") and a6 ("submitted",
  "conflicted", after a5) on section "work", overlapping the same words.
- DELETE: a7 (submitted) proposes deleting section "partnerships".
- INSERT: a8 (submitted) proposes a new section after "work".
- Other states: a9 draft, a10 withdrawn, a11 accepted_modified, a12 rejected,
  a13 accepted, a14 obsolete; a15-a18 submitted.
"""

PEOPLE = {
    "admin": {
        "email": "admin@example.org",
        "name": "Ada Admin",
        "role": "admin",
        "organisation": "Manifesto secretariat",
        "country": "Switzerland",
    },
    "moderator": {
        "email": "moderator@example.org",
        "name": "Claire Mensah-Dubois",
        "role": "moderator",
        "organisation": "Drafting committee, Mont Blanc Meetings",
        "country": "France",
    },
    "amina": {
        "email": "amina@example.org",
        "name": "Amina Sawadogo",
        "role": "participant",
        "organisation": "West African Network of Women's Cooperatives",
        "country": "Burkina Faso",
    },
    "lucas": {
        "email": "lucas@example.org",
        "name": "Lucas Ferreira da Silva",
        "role": "participant",
        "organisation": "Brazilian Solidarity Finance Network",
        "country": "Brazil",
    },
    "sofia": {
        "email": "sofia@example.org",
        "name": "Sofía Herrera Castillo",
        "role": "participant",
        "organisation": "Ibero-American Federation of Worker Cooperatives and Unions",
        "country": "Spain",
    },
}

DOCUMENT = {
    "title": "Manifesto for a sustainable and sovereign future with the social and solidarity economy",
    "slug": "sse-manifesto",
    "introduction": (
        "This manifesto was drafted in the weeks following the 2026 Mont Blanc Meetings in Geneva, "
        "where delegates of cooperatives, mutuals, associations, trade unions, governments and "
        "United Nations agencies met to take stock of the social and solidarity economy (SSE) in a "
        "period of overlapping crises."
        "\n\n"
        "It is a *living text*. Registered delegates can propose amendments to any section; "
        "amendments are discussed in the open, supported by co-signatories and decided by the "
        "drafting committee, which publishes the reasons for every decision."
    ),
}

SECTIONS = [
    # ------------------------------------------------------------------ 1
    {
        "key": "preamble",
        "heading": "Preamble: why now",
        "versions": [
            {
                "body": (
                    "The world is living through a convergence of crises that reinforce one another: a "
                    "climate emergency that is already displacing communities, widening inequality within "
                    "and between countries, the erosion of trust in public institutions, and a "
                    "concentration of economic power in fewer and fewer hands. These are not passing "
                    "shocks. They are the predictable results of an economic model that treats people and "
                    "nature as costs to be minimised."
                    "\n\n"
                    "The social and solidarity economy offers a tested alternative. Cooperatives, mutual "
                    "societies, associations, foundations and social enterprises already employ millions "
                    "of people and serve hundreds of millions of members. They are owned by those who use "
                    "them or work in them, they reinvest their surpluses, and they are rooted in the "
                    "territories where they operate. In 2023 the United Nations General Assembly "
                    "recognised their contribution to sustainable development; the task now is to move "
                    "from recognition to practice."
                    "\n\n"
                    "Sovereignty, in this manifesto, does not mean withdrawal. It means the capacity of "
                    "communities, workers and nations to decide collectively over the things they depend "
                    "on: the energy that powers their homes, the food on their tables, the data they "
                    "generate and the money they save. The SSE builds that capacity from the ground up."
                    "\n\n"
                    "We, the signatories, therefore set out what we intend to do and what we ask of "
                    "governments, international organisations and our own movements."
                ),
                "reason": "Initial draft by the drafting committee.",
                "author": "admin",
            },
            {
                "body": (
                    "The world is living through a convergence of crises that reinforce one another: a "
                    "climate emergency that is already displacing communities, widening inequality within "
                    "and between countries, the erosion of trust in public institutions, and a "
                    "concentration of economic power in fewer and fewer hands. These are not passing "
                    "shocks. They are the predictable results of an economic model that treats people and "
                    "nature as costs to be minimised."
                    "\n\n"
                    "The social and solidarity economy offers a tested alternative. Cooperatives, mutual "
                    "societies, associations, foundations and social enterprises already provide work to "
                    "hundreds of millions of people and serve more than a billion members. They are owned "
                    "by those who use them or work in them, they reinvest their surpluses, and they are "
                    "rooted in the territories where they operate. They are not a niche for times of "
                    "crisis, but a permanent part of a plural economy."
                    "\n\n"
                    "In April 2023 the United Nations General Assembly adopted its first resolution on the "
                    "social and solidarity economy, building on the definition agreed at the International "
                    "Labour Conference in 2022. The task now is to move from recognition to practice."
                    "\n\n"
                    "Sovereignty, in this manifesto, does not mean withdrawal. It means the capacity of "
                    "communities, workers and nations to decide collectively over the things they depend "
                    "on: the energy that powers their homes, the food on their tables, the data they "
                    "generate and the money they save. The SSE builds that capacity from the ground up."
                    "\n\n"
                    "We, the signatories, therefore set out what we intend to do and what we ask of "
                    "governments, international organisations and our own movements."
                ),
                "reason": (
                    "Clarified the reference to the 2023 General Assembly resolution and the 2022 ILO "
                    "definition, and updated membership figures, after the Geneva consultation."
                ),
                "author": "moderator",
            },
        ],
    },
    # ------------------------------------------------------------------ 2
    {
        "key": "energy",
        "heading": "Energy sovereignty",
        "versions": [
            {
                "body": (
                    "Energy is where the transition will be won or lost, and where the risk of a new "
                    "concentration of ownership is greatest. Large-scale renewable projects are too often "
                    "designed far from the communities that host them, financed by capital that extracts "
                    "the returns, and imposed with little consultation. A transition organised this way "
                    "reproduces the dependencies of the fossil era with different technology."
                    "\n\n"
                    "Citizen energy cooperatives show another path. In Europe, Latin America and "
                    "increasingly in Africa and Asia, households, farmers, municipalities and small "
                    "businesses jointly own wind turbines, solar installations, micro-hydro plants and "
                    "mini-grids. They keep revenue in the local economy, set tariffs democratically and "
                    "use part of their surplus to fight energy poverty."
                    "\n\n"
                    "We call on governments to give community energy a guaranteed place in national "
                    "energy plans, with simplified licensing, priority grid connection and the right to "
                    "share electricity among members. Public utilities and cooperatives should be treated "
                    "as partners, not competitors."
                    "\n\n"
                    "Where grids do not reach, decentralised renewable systems owned by the communities "
                    "they serve are often the fastest route to universal access. Development finance "
                    "should favour these models over concessions that leave rural users as captive "
                    "customers."
                ),
                "reason": "Initial draft by the drafting committee.",
                "author": "admin",
            },
            {
                "body": (
                    "Energy is where the transition will be won or lost, and where the risk of a new "
                    "concentration of ownership is greatest. Large-scale renewable projects are too often "
                    "designed far from the communities that host them, financed by capital that extracts "
                    "the returns, and imposed with little consultation. A transition organised this way "
                    "reproduces the dependencies of the fossil era with different technology."
                    "\n\n"
                    "Citizen energy cooperatives show another path. In Europe, Latin America and "
                    "increasingly in Africa and Asia, households, farmers, municipalities and small "
                    "businesses jointly own wind turbines, solar installations, micro-hydro plants and "
                    "mini-grids. They keep revenue in the local economy, set tariffs democratically and "
                    "use part of their surplus to fight energy poverty."
                    "\n\n"
                    "We call on governments to reserve a clear share of new renewable capacity for "
                    "community ownership in national energy plans, with simplified licensing, priority "
                    "grid connection and the right to share electricity among members. Public utilities "
                    "and cooperatives should be treated as partners, not competitors."
                    "\n\n"
                    "The transition must also be fair to the workers of the fossil sector. Just-transition "
                    "agreements negotiated with trade unions should include the option for workers and "
                    "communities to take over and convert existing sites as cooperatives, with public "
                    "support for retraining."
                    "\n\n"
                    "Where grids do not reach, decentralised renewable systems owned by the communities "
                    "they serve are often the fastest route to universal access. Development finance "
                    "should favour these models over concessions that leave rural users as captive "
                    "customers."
                ),
                "reason": (
                    "Replaced the vague 'guaranteed place' with a reserved share of new capacity and added "
                    "a paragraph on just-transition agreements, as requested by union delegates in Geneva."
                ),
                "author": "moderator",
            },
            {
                "body": (
                    "Energy is where the transition will be won or lost, and where the risk of a new "
                    "concentration of ownership is greatest. Large-scale renewable projects are too often "
                    "designed far from the communities that host them, financed by capital that extracts "
                    "the returns, and imposed with little consultation. A transition organised this way "
                    "reproduces the dependencies of the fossil era with different technology."
                    "\n\n"
                    "Citizen energy cooperatives show another path. In Europe, Latin America and "
                    "increasingly in Africa and Asia, households, farmers, municipalities and small "
                    "businesses jointly own wind turbines, solar installations, micro-hydro plants, biogas "
                    "units and mini-grids. They keep revenue in the local economy, set tariffs "
                    "democratically and use part of their surplus to fight energy poverty, for example by "
                    "financing insulation and efficient stoves for low-income members."
                    "\n\n"
                    "We call on governments to reserve a clear share of new renewable capacity for "
                    "community ownership in national energy plans, with simplified licensing, priority "
                    "grid connection and the right to share electricity among members. Public utilities "
                    "and cooperatives should be treated as partners, not competitors."
                    "\n\n"
                    "The transition must also be fair to the workers of the fossil sector. Just-transition "
                    "agreements negotiated with trade unions should include the option for workers and "
                    "communities to take over and convert existing sites as cooperatives, with public "
                    "support for retraining."
                    "\n\n"
                    "Where grids do not reach, decentralised renewable systems owned by the communities "
                    "they serve are often the fastest route to universal access. Development finance "
                    "should favour these models over concessions that leave rural users as captive "
                    "customers."
                ),
                "reason": (
                    "Added biogas units and a concrete example of how energy cooperatives tackle energy "
                    "poverty, following written comments from the African regional caucus."
                ),
                "author": "admin",
            },
        ],
    },
    # ------------------------------------------------------------------ 3
    {
        "key": "food",
        "heading": "Food sovereignty",
        "versions": [
            {
                "body": (
                    "Food systems are dominated by a handful of companies in seeds, fertiliser, commodity "
                    "trading and retail. Smallholder farmers, who produce a large share of the world's "
                    "food, capture a shrinking share of its value, while consumers in cities face volatile "
                    "prices. Food sovereignty means restoring the right of peoples to define their own "
                    "food and agricultural policies."
                    "\n\n"
                    "Agricultural cooperatives, producer organisations and community-supported agriculture "
                    "schemes already give farmers collective bargaining power, shared storage and "
                    "processing, and direct links to consumers. Women, who do much of the farming and most "
                    "of the processing in many regions, must be members and leaders of these "
                    "organisations in their own right, not only through their husbands or fathers."
                    "\n\n"
                    "We ask governments to secure land tenure for family farmers and rural communities, "
                    "including collective and customary rights, and to protect farmer-managed seed systems "
                    "from restrictive intellectual property rules."
                    "\n\n"
                    "Public food purchasing for schools, hospitals and public canteens should source a "
                    "rising share from local producer cooperatives, with contracts and payment terms "
                    "adapted to small suppliers. Territorial food markets, where producers and consumers "
                    "meet, deserve public investment in the same way as export corridors."
                ),
                "reason": "Initial draft by the drafting committee.",
                "author": "admin",
            },
            {
                "body": (
                    "Food systems are dominated by a handful of companies in seeds, fertiliser, commodity "
                    "trading and retail. Smallholder farmers, fishers and pastoralists, who produce a large "
                    "share of the world's food, capture a shrinking share of its value, while consumers in "
                    "cities face volatile prices. Food sovereignty means restoring the right of peoples to "
                    "define their own food and agricultural policies."
                    "\n\n"
                    "Agricultural cooperatives, producer organisations and community-supported agriculture "
                    "schemes already give farmers collective bargaining power, shared storage and "
                    "processing, and direct links to consumers. Women, who do much of the farming and most "
                    "of the processing in many regions, must be members and leaders of these "
                    "organisations in their own right, not only through their husbands or fathers."
                    "\n\n"
                    "Agroecology, practised and taught through farmer-to-farmer networks, reduces "
                    "dependence on purchased inputs, restores soils and makes farms more resilient to "
                    "drought. Research budgets and extension services should support it on equal terms "
                    "with input-intensive models."
                    "\n\n"
                    "We ask governments to secure land tenure for family farmers and rural communities, "
                    "including collective and customary rights, and to protect farmer-managed seed systems "
                    "from restrictive intellectual property rules."
                    "\n\n"
                    "Public food purchasing for schools, hospitals and public canteens should source a "
                    "rising share from local producer cooperatives, with contracts and payment terms "
                    "adapted to small suppliers. Territorial food markets, where producers and consumers "
                    "meet, deserve public investment in the same way as export corridors."
                ),
                "reason": (
                    "Included fishers and pastoralists and added a paragraph on agroecology after the "
                    "Geneva consultation with FAO and farmers' organisations."
                ),
                "author": "moderator",
            },
        ],
    },
    # ------------------------------------------------------------------ 4
    {
        "key": "democracy",
        "heading": "Democracy at work and patient finance",
        "versions": [
            {
                "body": (
                    "Economic democracy is the defining feature of the SSE: one member, one vote; a limited "
                    "return on capital; surpluses reinvested or shared according to participation rather "
                    "than shareholding. These principles are not administrative details. They are a daily "
                    "school of democracy in workplaces and communities, at a time when democratic "
                    "institutions elsewhere are under strain."
                    "\n\n"
                    "Democratic governance must be practised, not just written into statutes. "
                    "Organisations grow, members become passive, and management can drift away from the "
                    "membership. We commit to investing in member education, transparent accounts and "
                    "rotating leadership, and to making sure that women and young people are represented "
                    "on our boards in proportion to our membership."
                    "\n\n"
                    "Financing remains the main barrier to the growth of SSE organisations. Because they "
                    "cannot issue shares to outside investors without diluting member control, they "
                    "depend on retained surpluses, member capital, cooperative banks, credit unions and "
                    "solidarity finance. These institutions need a regulatory framework proportionate to "
                    "their size and risk, rather than rules written for listed commercial banks."
                    "\n\n"
                    "We call for:"
                    "\n\n"
                    "- dedicated public guarantee funds for loans to SSE organisations;\n"
                    "- patient capital instruments that do not demand control;\n"
                    "- tax treatment that recognises indivisible reserves as a collective asset;\n"
                    "- a legal right of first refusal for employees when a business without a successor, "
                    "or a company in difficulty, is sold, together with the option of receiving "
                    "unemployment benefits as start-up capital for a worker buyout."
                ),
                "reason": "Initial draft by the drafting committee.",
                "author": "admin",
            },
        ],
    },
    # ------------------------------------------------------------------ 5
    {
        "key": "digital",
        "heading": "Artificial intelligence and digitalisation",
        "versions": [
            {
                "body": (
                    "Digital platforms now organise transport, delivery, care, tourism and a growing share "
                    "of retail. A few companies control the infrastructure, the data and the algorithms "
                    "that set prices and allocate work. Artificial intelligence threatens to deepen this "
                    "concentration, because the data, computing power and skills it requires are held by "
                    "a very small number of firms and countries."
                    "\n\n"
                    "The SSE does not reject technology; it asks who owns it and who governs it. Platform "
                    "cooperatives, owned by drivers, couriers, care workers or freelancers, show that "
                    "digital services can be run democratically and pay fairly. Data cooperatives and "
                    "trusts allow members to pool their data and negotiate the terms of its use, instead "
                    "of surrendering it by default."
                    "\n\n"
                    "We call for public investment in open-source software, shared digital infrastructure "
                    "and community networks, so that cooperatives and local authorities are not locked "
                    "into proprietary systems they cannot audit or leave."
                    "\n\n"
                    "Where algorithms manage workers, workers and their representatives must have the "
                    "right to know how decisions are made, to contest them and to negotiate over them. The "
                    "introduction of artificial intelligence in the workplace should be a subject of "
                    "collective bargaining, not a unilateral management decision."
                ),
                "reason": "Initial draft by the drafting committee.",
                "author": "admin",
            },
            {
                "body": (
                    "Digital platforms now organise transport, delivery, care, tourism and a growing share "
                    "of retail. A few companies control the infrastructure, the data and the algorithms "
                    "that set prices and allocate work. Artificial intelligence threatens to deepen this "
                    "concentration, because the data, computing power and skills it requires are held by "
                    "a handful of firms, concentrated in very few countries."
                    "\n\n"
                    "The SSE does not reject technology; it asks who owns it and who governs it. Platform "
                    "cooperatives, owned by drivers, couriers, care workers or freelancers, show that "
                    "digital services can be run democratically and pay fairly. Data cooperatives and "
                    "trusts allow members to pool their data and negotiate the terms of its use, instead "
                    "of surrendering it by default."
                    "\n\n"
                    "Artificial intelligence can also serve the SSE: in farm advisory services, in "
                    "translation for members who speak minority languages, or in reducing the "
                    "administrative burden on small organisations. To use it on their own terms, SSE "
                    "organisations need shared technical capacity, for example federations pooling data "
                    "specialists and computing resources, and training for members and staff."
                    "\n\n"
                    "We call for public investment in open-source software, shared digital infrastructure "
                    "and community networks, so that cooperatives and local authorities are not locked "
                    "into proprietary systems they cannot audit or leave."
                    "\n\n"
                    "Where algorithms manage workers, workers and their representatives must have the "
                    "right to know how decisions are made, to contest them and to negotiate over them. The "
                    "introduction of artificial intelligence in the workplace should be a subject of "
                    "collective bargaining, not a unilateral management decision."
                ),
                "reason": (
                    "Added a paragraph on how SSE organisations can use artificial intelligence on their "
                    "own terms, after the Geneva workshop on digital commons."
                ),
                "author": "moderator",
            },
        ],
    },
    # ------------------------------------------------------------------ 6
    {
        "key": "work",
        "heading": "Decent work and social justice",
        "versions": [
            {
                "body": (
                    "The SSE exists to meet needs, not to maximise returns, but that does not exempt it "
                    "from the obligation to provide decent work. Its organisations must respect the "
                    "fundamental principles and rights at work, including freedom of association and "
                    "collective bargaining, and must never be used as a screen for disguised employment "
                    "or to evade labour law."
                    "\n\n"
                    "In many countries the informal economy still accounts for most jobs. Waste pickers, "
                    "street vendors, domestic workers and artisans have organised themselves in "
                    "cooperatives, associations and mutual schemes. These organisations are often the "
                    "first step towards formalisation, giving members a legal identity, access to social "
                    "protection and a collective voice with the authorities."
                    "\n\n"
                    "We call on governments to extend social protection to all workers, whatever their "
                    "employment status, and to recognise mutual health schemes and cooperative insurance "
                    "as partners in achieving universal coverage. Minimum wages, occupational safety and "
                    "protection against violence and harassment at work must apply in SSE organisations "
                    "as everywhere else."
                    "\n\n"
                    "Social justice also means a fair distribution of unpaid work. Care for children, "
                    "older people and people with disabilities still falls overwhelmingly on women. Care "
                    "cooperatives owned by workers and users can improve both the quality of services and "
                    "the conditions of those who provide them, provided they are properly funded and "
                    "their workers are paid for the skilled work they do."
                ),
                "reason": "Initial draft by the drafting committee.",
                "author": "admin",
            },
        ],
    },
    # ------------------------------------------------------------------ 7
    {
        "key": "enabling",
        "heading": "Enabling environments",
        "versions": [
            {
                "body": (
                    "Recognition in speeches is not enough. The SSE grows where the institutional "
                    "framework allows it to, and stalls where laws, tax rules and administrative practice "
                    "are designed only for public bodies and profit-oriented companies."
                    "\n\n"
                    "We ask governments to adopt framework laws on the SSE, developed with its "
                    "representative organisations, that define its scope, recognise its diverse legal "
                    "forms and establish a body responsible for coordination across ministries. "
                    "Statistics offices should measure the contribution of the SSE to employment and "
                    "output using the international guidelines now being developed, so that policy rests "
                    "on evidence rather than anecdote."
                    "\n\n"
                    "Public procurement is one of the most powerful levers available. Contracting "
                    "authorities should be able to reserve certain contracts for SSE organisations and "
                    "work integration enterprises, divide large tenders into lots accessible to small "
                    "suppliers, and award contracts on social and environmental criteria as well as "
                    "price. Responsible procurement should be monitored and reported on every year."
                    "\n\n"
                    "Access to technology and finance must be made equal. SSE organisations should be "
                    "eligible for every innovation programme, digitalisation grant and business support "
                    "scheme open to other enterprises, and development banks should create windows "
                    "adapted to collective enterprises."
                    "\n\n"
                    "Finally, the SSE must take part in the policy processes that affect it, at local, "
                    "national and international level, through its own representative structures rather "
                    "than through ad hoc invitations. Participation should begin at the drafting stage, "
                    "not only in consultations on finished texts."
                ),
                "reason": "Initial draft by the drafting committee.",
                "author": "admin",
            },
        ],
    },
    # ------------------------------------------------------------------ 8
    {
        "key": "partnerships",
        "heading": "Partnerships at national, regional and global level",
        "versions": [
            {
                "body": (
                    "No single actor can build a sustainable and sovereign economy alone. The SSE has to "
                    "work with public authorities, trade unions, universities and, where values are "
                    "compatible, with private companies, while keeping its autonomy."
                    "\n\n"
                    "At national level, we call for permanent dialogue structures between governments and "
                    "representative SSE platforms, with their own resources and a clear mandate. Local "
                    "authorities are often the most committed partners; networks of SSE-friendly cities "
                    "and regions should be supported and connected. Each national SSE platform should "
                    "designate a spokesman for relations with the United Nations country team."
                    "\n\n"
                    "At regional level, economic communities and development banks in Africa, Latin "
                    "America, Asia and Europe can harmonise legal frameworks, support cross-border "
                    "cooperative trade and finance regional SSE observatories. South-South and triangular "
                    "cooperation between SSE movements should be funded as development cooperation in its "
                    "own right."
                    "\n\n"
                    "At global level, the United Nations Inter-Agency Task Force on Social and Solidarity "
                    "Economy, the ILO, UNCTAD, FAO, UNDP and other agencies should integrate the SSE in "
                    "their programmes and country support, and report jointly on implementation of the "
                    "2023 General Assembly resolution. International cooperative and SSE networks commit "
                    "to coordinating their positions ahead of major negotiations, including climate "
                    "conferences and financing for development."
                ),
                "reason": "Initial draft by the drafting committee.",
                "author": "admin",
            },
        ],
    },
    # ------------------------------------------------------------------ 9
    {
        "key": "commitments",
        "heading": "Our commitments and call to action",
        "versions": [
            {
                "body": (
                    "We, the signatories, commit to practising what we ask of others. Our organisations "
                    "will apply democratic governance in earnest, publish social and environmental "
                    "reports, pay decent wages and work towards gender parity at every level of "
                    "responsibility."
                    "\n\n"
                    "We commit to cooperating among ourselves across sectors and borders: to buy from one "
                    "another where we can, to pool services, to share knowledge openly and to support new "
                    "cooperatives in countries where the movement is young."
                    "\n\n"
                    "We call on governments to translate the 2023 General Assembly resolution into "
                    "national strategies with budgets and measurable targets, adopted with the "
                    "participation of SSE organisations. We call on international organisations to "
                    "integrate the SSE in their programmes and to report on progress. We call on trade "
                    "unions, environmental movements and farmers' organisations to build with us the "
                    "alliances that a *just transition* requires."
                    "\n\n"
                    "This manifesto is open for endorsement by any organisation that shares its "
                    "principles. Its signatories will meet again at the next Mont Blanc Meetings to assess "
                    "what has been achieved and what remains to be done."
                ),
                "reason": "Initial draft by the drafting committee.",
                "author": "admin",
            },
        ],
    },
]


AMENDMENTS = [
    # --- Scenario 1: COLLIDING PAIR -------------------------------------------------
    # a1 and a2 are both "submitted" on "energy" and both rewrite the words
    # "a clear share of new renewable capacity for community ownership" in the
    # same sentence of paragraph 3, in different ways. Only one can be accepted
    # as written; the other will then need to be rebased by hand.
    {
        "key": "a1",
        "section": "energy",
        "kind": "modify",
        "find": "reserve a clear share of new renewable capacity for community ownership",
        "replace": "reserve at least 20 per cent of new renewable capacity for community ownership by 2035",
        "heading": None,
        "body": None,
        "reason": (
            "'A clear share' will not survive contact with energy ministries. A measurable target with "
            "a date gives our national federations something concrete to negotiate and to monitor."
        ),
        "author": "amina",
        "supporters": ["lucas", "sofia"],
        "state": "submitted",
        "decision_reason": None,
        "modified_replace": None,
        "scenario": "colliding",
    },
    {
        "key": "a2",
        "section": "energy",
        "kind": "modify",
        "find": "a clear share of new renewable capacity for community ownership in national energy plans",
        "replace": (
            "a fair and growing share of new renewable capacity for community and municipal ownership in national "
            "energy plans and in nationally determined contributions under the Paris Agreement"
        ),
        "heading": None,
        "body": None,
        "reason": (
            "Municipal utilities are natural allies of energy cooperatives, and the commitment should "
            "also appear in countries' climate pledges, which are revised in 2030, not only in domestic "
            "energy plans."
        ),
        "author": "lucas",
        "supporters": ["moderator"],
        "state": "submitted",
        "decision_reason": None,
        "modified_replace": None,
        "scenario": "colliding",
    },
    # --- Scenario 2: CLEAN REBASE --------------------------------------------------
    # a3 ("accepted") changes the last sentence of the FIRST paragraph of "food".
    # a4 ("submitted") was written against the same version and changes the LAST
    # paragraph. The app applies a3 first; a4 then rebases cleanly.
    {
        "key": "a3",
        "section": "food",
        "kind": "modify",
        "find": (
            "Food sovereignty means restoring the right of peoples to define their own food and "
            "agricultural policies."
        ),
        "replace": (
            "Food sovereignty means restoring the right of peoples to define their own food and "
            "agricultural policies, as affirmed in the 2018 United Nations Declaration on the Rights of "
            "Peasants and Other People Working in Rural Areas."
        ),
        "heading": None,
        "body": None,
        "reason": (
            "Anchoring food sovereignty in an instrument adopted by the General Assembly makes the "
            "claim harder to dismiss as a slogan and helps delegates from governments endorse it."
        ),
        "author": "sofia",
        "supporters": ["amina"],
        "state": "accepted",
        "decision_reason": (
            "Accepted. The reference is accurate and strengthens the text without changing its scope."
        ),
        "modified_replace": None,
        "scenario": "rebase-trigger",
    },
    {
        "key": "a4",
        "section": "food",
        "kind": "modify",
        "find": "should source a rising share from local producer cooperatives",
        "replace": (
            "should source at least 30 per cent of their purchases from local producer cooperatives "
            "and women's processing groups"
        ),
        "heading": None,
        "body": None,
        "reason": (
            "Several countries in the region already apply school-feeding quotas for local produce. A "
            "figure, and an explicit mention of women's processing groups, would make this demand "
            "usable in national advocacy."
        ),
        "author": "amina",
        "supporters": ["sofia", "lucas"],
        "state": "submitted",
        "decision_reason": None,
        "modified_replace": None,
        "scenario": "rebased",
        "after": "a3",
    },
    # --- Scenario 3: CONFLICT ------------------------------------------------------
    # a5 ("accepted") and a6 ("submitted") were both written against version 1 of
    # "work" and both rewrite "to all workers, whatever their employment status,".
    # a5 is accepted first, so a6's `find` no longer exists: a6 is conflicted.
    {
        "key": "a5",
        "section": "work",
        "kind": "modify",
        "find": "extend social protection to all workers, whatever their employment status,",
        "replace": (
            "extend social protection to all workers, whatever their employment or migration status, "
            "in line with ILO Recommendation No. 202 on social protection floors,"
        ),
        "heading": None,
        "body": None,
        "reason": (
            "Migrant workers are over-represented in the sectors where SSE organisations operate and "
            "are routinely excluded from coverage. Referring to Recommendation No. 202 ties the demand "
            "to an agreed international standard."
        ),
        "author": "sofia",
        "supporters": ["lucas", "amina"],
        "state": "accepted",
        "decision_reason": (
            "Accepted. The committee agrees that migration status is a major gap in coverage and that "
            "the reference to social protection floors reflects language already agreed by governments."
        ),
        "modified_replace": None,
        "scenario": "conflict-trigger",
    },
    {
        "key": "a6",
        "section": "work",
        "kind": "modify",
        "find": (
            "to all workers, whatever their employment status, and to recognise mutual health schemes"
        ),
        "replace": (
            "to all workers, including those in the informal economy and on digital platforms, and to "
            "recognise community-based mutual health schemes"
        ),
        "heading": None,
        "body": None,
        "reason": (
            "'Employment status' is a legal notion that informal workers and platform workers often do "
            "not have. Naming them explicitly, and naming community-based mutuals, reflects how "
            "coverage is actually extended in West Africa."
        ),
        "author": "amina",
        "supporters": ["moderator"],
        "state": "submitted",
        "decision_reason": None,
        "modified_replace": None,
        "scenario": "conflicted",
        "after": "a5",
    },
    # --- Scenario 4: DELETE and INSERT ---------------------------------------------
    {
        "key": "a7",
        "section": "partnerships",
        "kind": "delete",
        "heading": None,
        "body": None,
        "reason": (
            "This section largely repeats 'Enabling environments' and the call to action. Its concrete "
            "points (dialogue structures, regional observatories) could move there, giving a shorter "
            "manifesto that is easier for governments to endorse."
        ),
        "author": "lucas",
        "supporters": [],
        "state": "submitted",
        "decision_reason": None,
        "modified_replace": None,
    },
    {
        "key": "a8",
        "section": "work",
        "kind": "insert",
        "after_section": "work",
        "heading": "Migrants, refugees and displaced people",
        "body": (
            "Cooperatives and associations are often among the first to offer migrants and refugees "
            "work, training and a place in the community, and many were founded by migrants themselves. "
            "Displacement caused by conflict and climate change will grow in the coming decades; the SSE "
            "can help turn arrival into participation rather than exclusion."
            "\n\n"
            "We call on governments to:"
            "\n\n"
            "- allow asylum seekers and refugees to join and found cooperatives on the same terms as "
            "nationals;\n"
            "- recognise their qualifications faster and include them in social protection schemes;\n"
            "- require humanitarian agencies to buy from cooperatives in host communities and camps, so "
            "that aid strengthens local economies instead of replacing them."
            "\n\n"
            "SSE organisations commit to fighting discrimination in their own ranks and to giving "
            "migrant members a real voice in governance."
        ),
        "reason": (
            "Geneva hosts the main humanitarian and migration agencies, yet the draft says nothing about "
            "displacement. Our federation's members include hundreds of migrant-run cooperatives whose "
            "experience deserves a place in the text."
        ),
        "author": "sofia",
        "supporters": ["amina", "lucas"],
        "state": "submitted",
        "decision_reason": None,
        "modified_replace": None,
    },
    # --- Other states ---------------------------------------------------------------
    # a9: "draft" (not yet submitted, no supporters), paragraph 4 of "digital",
    # away from the paragraph changed by the accepted_modified a11.
    {
        "key": "a9",
        "section": "digital",
        "kind": "modify",
        "find": "shared digital infrastructure and community networks",
        "replace": (
            "shared digital infrastructure, community networks and start-up support for platform "
            "cooperatives of delivery, domestic and care workers"
        ),
        "heading": None,
        "body": None,
        "reason": (
            "Platform cooperatives are mentioned as examples but get no support in the demands. Our "
            "members who run a domestic workers' booking app need seed funding, not just recognition."
        ),
        "author": "amina",
        "supporters": [],
        "state": "draft",
        "decision_reason": None,
        "modified_replace": None,
    },
    # a10: "withdrawn" by its author, paragraph 1 of "preamble".
    {
        "key": "a10",
        "section": "preamble",
        "kind": "modify",
        "find": "These are not passing shocks.",
        "replace": "These are not passing shocks, and markets alone will not resolve them.",
        "heading": None,
        "body": None,
        "reason": (
            "Makes explicit that the crises call for collective and public action, not only for better "
            "market signals. (Withdrawn by the author: the point is already made in the next sentence.)"
        ),
        "author": "lucas",
        "supporters": ["sofia"],
        "state": "withdrawn",
        "decision_reason": None,
        "modified_replace": None,
    },
    # a11: "accepted_modified" on "digital" (paragraph 2, data sovereignty): the
    # committee accepted the idea with its own wording in `modified_replace`.
    {
        "key": "a11",
        "section": "digital",
        "kind": "modify",
        "find": (
            "Data cooperatives and trusts allow members to pool their data and negotiate the terms of "
            "its use, instead of surrendering it by default."
        ),
        "replace": (
            "Data cooperatives and trusts allow members to pool their data and negotiate the terms of "
            "its use, instead of surrendering it by default. Data generated by communities must be "
            "stored within the countries concerned and governed under their jurisdiction."
        ),
        "heading": None,
        "body": None,
        "reason": (
            "Data sovereignty is missing from a manifesto about sovereignty. Data collected from "
            "farmers, savers and platform workers in the South is routinely stored and monetised "
            "elsewhere."
        ),
        "author": "lucas",
        "supporters": ["amina", "sofia"],
        "state": "accepted_modified",
        "decision_reason": (
            "Accepted in substance. The committee extended the wording to workers' data and replaced "
            "the strict localisation requirement, which several delegates considered unworkable for "
            "small organisations that rely on shared cloud services, with a right to co-decide where "
            "and under which jurisdiction data is stored."
        ),
        "modified_replace": (
            "Data cooperatives and trusts allow members to pool their data and negotiate the terms of "
            "its use, instead of surrendering it by default. Data generated by communities and workers "
            "should be governed by rules they help to define, including where and under which "
            "jurisdiction it is stored."
        ),
    },
    # a12: "rejected", with a proposed new heading, paragraph 1 of "enabling".
    {
        "key": "a12",
        "section": "enabling",
        "kind": "modify",
        "find": "are designed only for public bodies and profit-oriented companies.",
        "replace": (
            "are designed only for public bodies and profit-oriented companies. All SSE organisations "
            "should benefit from a reduced rate of corporate income tax."
        ),
        "heading": "Enabling environments and fiscal incentives",
        "body": None,
        "reason": (
            "Without a tax advantage, SSE organisations compete on unequal terms with companies that "
            "can optimise their tax bills. A reduced rate would be simple to apply and easy to explain."
        ),
        "author": "lucas",
        "supporters": [],
        "state": "rejected",
        "decision_reason": (
            "Rejected. A uniform reduced rate does not fit the very different national tax systems of "
            "the signatories, and several union delegates warned it could invite abuse of the SSE label. "
            "The tax treatment of indivisible reserves is already addressed under 'Democracy at work and "
            "patient finance'."
        ),
        "modified_replace": None,
    },
    # a13: "accepted", last paragraph of "commitments".
    {
        "key": "a13",
        "section": "commitments",
        "kind": "modify",
        "find": (
            "Its signatories will meet again at the next Mont Blanc Meetings to assess what has been "
            "achieved and what remains to be done."
        ),
        "replace": (
            "Its signatories will publish a public progress report every two years and meet again at "
            "the next Mont Blanc Meetings to assess, against the commitments above, what has been "
            "achieved and what remains to be done."
        ),
        "heading": None,
        "body": None,
        "reason": (
            "A manifesto without a follow-up mechanism is quickly forgotten. A regular, public report "
            "gives members and partners a way to hold the signatories to their word."
        ),
        "author": "lucas",
        "supporters": ["sofia", "amina"],
        "state": "accepted",
        "decision_reason": (
            "Accepted. The secretariat will coordinate the biennial report with the regional networks."
        ),
        "modified_replace": None,
    },
    # a14: "obsolete": paragraph 3 of "commitments"; its purpose was met by a13,
    # accepted in another paragraph, so it no longer applies in substance.
    {
        "key": "a14",
        "section": "commitments",
        "kind": "modify",
        "find": "national strategies with budgets and measurable targets",
        "replace": (
            "national strategies with budgets and measurable targets, reviewed in a joint progress "
            "report every two years"
        ),
        "heading": None,
        "body": None,
        "reason": (
            "Targets only matter if someone checks them. A regular joint review keeps the pressure on "
            "governments after the Meetings."
        ),
        "author": "sofia",
        "supporters": ["amina"],
        "state": "obsolete",
        "decision_reason": (
            "Obsolete. Amendment a13, now accepted, already introduces a biennial public progress "
            "report in the final paragraph; adding it here would duplicate the commitment."
        ),
        "modified_replace": None,
    },
    # a15-a18: further "submitted" amendments on sections without accepted changes.
    {
        "key": "a15",
        "section": "democracy",
        "kind": "modify",
        "find": "cooperative banks, credit unions and solidarity finance",
        "replace": (
            "cooperative banks, credit unions, community development banks, community currencies and "
            "other forms of solidarity finance"
        ),
        "heading": None,
        "body": None,
        "reason": (
            "In Brazil more than a hundred community development banks, many issuing local social "
            "currencies, finance neighbourhood economies that conventional banks ignore. They should be "
            "named, as they face exactly the regulatory problem this paragraph describes."
        ),
        "author": "lucas",
        "supporters": ["amina"],
        "state": "submitted",
        "decision_reason": None,
        "modified_replace": None,
    },
    {
        "key": "a16",
        "section": "enabling",
        "kind": "modify",
        "find": "divide large tenders into lots accessible to small suppliers",
        "replace": (
            "divide large tenders into lots accessible to small suppliers, pay invoices within thirty "
            "days"
        ),
        "heading": None,
        "body": None,
        "reason": (
            "Late payment by public buyers is the main reason small cooperatives, especially women's "
            "cooperatives with little working capital, stop bidding for public contracts."
        ),
        "author": "amina",
        "supporters": ["lucas", "sofia"],
        "state": "submitted",
        "decision_reason": None,
        "modified_replace": None,
    },
    {
        "key": "a17",
        "section": "preamble",
        "kind": "modify",
        "find": "the capacity of communities, workers and nations to decide collectively",
        "replace": (
            "the capacity of communities, workers, Indigenous peoples and nations to decide collectively"
        ),
        "heading": None,
        "body": None,
        "reason": (
            "Indigenous peoples hold a distinct, internationally recognised right to self-determination "
            "over their lands and resources, and many Indigenous communities organise their economies "
            "through cooperatives and communal enterprises."
        ),
        "author": "sofia",
        "supporters": ["amina", "lucas"],
        "state": "submitted",
        "decision_reason": None,
        "modified_replace": None,
    },
    {
        "key": "a18",
        "section": "partnerships",
        "kind": "modify",
        "find": "designate a spokesman for relations",
        "replace": "designate a spokesperson for relations",
        "heading": None,
        "body": None,
        "reason": "Editorial: gender-inclusive wording, consistent with the commitment to gender parity.",
        "author": "moderator",
        "supporters": ["amina", "sofia"],
        "state": "submitted",
        "decision_reason": None,
        "modified_replace": None,
    },
]


if __name__ == "__main__":
    import re

    STATES = {"draft", "submitted", "withdrawn", "accepted", "accepted_modified", "rejected", "obsolete"}
    USERS = {"amina", "lucas", "sofia", "moderator"}

    def words(text):
        return len(re.findall(r"[\w'’-]+", text))

    def para_index(body, pos):
        return body[:pos].count("\n\n")

    def span(body, find):
        i = body.index(find)
        return i, i + len(find)

    def overlap(a, b):
        return a[0] < b[1] and b[0] < a[1]

    assert set(PEOPLE) == {"admin", "moderator", "amina", "lucas", "sofia"}
    assert len(DOCUMENT["introduction"].split("\n\n")) == 2

    sections = {s["key"]: s for s in SECTIONS}
    assert len(SECTIONS) == 9 and len(sections) == 9
    assert sum(len(s["versions"]) >= 2 for s in SECTIONS) == 4
    current = {k: s["versions"][-1]["body"] for k, s in sections.items()}
    total = words(DOCUMENT["introduction"])
    for s in SECTIONS:
        for v in s["versions"]:
            n, p = words(v["body"]), len(v["body"].split("\n\n"))
            assert 150 <= n <= 350, (s["key"], n)
            assert 2 <= p <= 6, (s["key"], p)  # 5 paragraphs + at most one bullet list block
            assert "<" not in v["body"] and "\n\n\n" not in v["body"]
        total += words(current[s["key"]])
    assert 2000 <= total <= 2800, total

    amds = {a["key"]: a for a in AMENDMENTS}
    assert len(amds) == len(AMENDMENTS) and 14 <= len(AMENDMENTS) <= 18
    assert STATES <= {a["state"] for a in AMENDMENTS}
    assert sum(a["state"] == "submitted" for a in AMENDMENTS) >= 3
    for a in AMENDMENTS:
        assert a["state"] in STATES and a["section"] in sections
        assert a["author"] in USERS and set(a["supporters"]) <= USERS - {a["author"]}
        if a["kind"] == "modify":
            assert current[a["section"]].count(a["find"]) == 1, a["key"]
            assert a["replace"] != a["find"]
        elif a["kind"] == "insert":
            assert a["after_section"] in sections and a["heading"] and "find" not in a
            assert 80 <= words(a["body"]) <= 150, words(a["body"])
        else:
            assert a["kind"] == "delete" and "find" not in a
        assert (a["state"] == "accepted_modified") == (a["modified_replace"] is not None)
        assert (a["state"] in {"accepted", "accepted_modified", "rejected", "obsolete"}) == bool(a["decision_reason"])
        if "after" in a:
            assert a["after"] in amds and amds[a["after"]]["section"] == a["section"]
    assert {a["kind"] for a in AMENDMENTS if a["state"] == "submitted"} >= {"delete", "insert"}

    # Apply accepted amendments (in list order) to get the post-decision bodies.
    accepted = [a for a in AMENDMENTS if a["state"] in {"accepted", "accepted_modified"}]
    after = dict(current)
    for a in accepted:
        new = a["modified_replace"] or a["replace"]
        after[a["section"]] = after[a["section"]].replace(a["find"], new, 1)

    # 1. colliding pair
    col = [a for a in AMENDMENTS if a.get("scenario") == "colliding"]
    assert len(col) == 2 and col[0]["section"] == col[1]["section"]
    assert all(a["state"] == "submitted" for a in col)
    body = current[col[0]["section"]]
    assert overlap(span(body, col[0]["find"]), span(body, col[1]["find"]))
    assert col[0]["replace"] != col[1]["replace"]

    # 2. clean rebase
    y = next(a for a in AMENDMENTS if a.get("scenario") == "rebased")
    x = amds[y["after"]]
    assert x.get("scenario") == "rebase-trigger" and x["state"] == "accepted" and y["state"] == "submitted"
    body = current[y["section"]]
    assert para_index(body, body.index(x["find"])) != para_index(body, body.index(y["find"]))
    assert after[y["section"]].count(y["find"]) == 1

    # 3. conflict
    z = next(a for a in AMENDMENTS if a.get("scenario") == "conflicted")
    w = amds[z["after"]]
    assert w.get("scenario") == "conflict-trigger" and w["state"] == "accepted" and z["state"] == "submitted"
    body = current[z["section"]]
    assert overlap(span(body, w["find"]), span(body, z["find"]))
    assert z["find"] not in after[z["section"]]

    # Every other modify amendment stays clear of paragraphs touched by accepted ones.
    for a in AMENDMENTS:
        if a["kind"] != "modify" or a in accepted or a.get("scenario") == "conflicted":
            continue
        body = current[a["section"]]
        pa = para_index(body, body.index(a["find"]))
        for acc in accepted:
            if acc["section"] == a["section"]:
                assert pa != para_index(body, body.index(acc["find"])), (a["key"], acc["key"])
        assert after[a["section"]].count(a["find"]) == 1, a["key"]

    print(f"OK: {len(SECTIONS)} sections, {total} words, {len(AMENDMENTS)} amendments")
