"""The working-day calendar of China (holidays and make-up working days) and the SLA
policies, as data, with pure deadline functions over them. See docs/workcal.md."""
